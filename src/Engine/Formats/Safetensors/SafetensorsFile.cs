using System.IO.MemoryMappedFiles;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using System.Text.Json;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Safetensors;

/// <summary>
/// A memory-mapped .safetensors file. Opening validates the whole header (sizes, offsets, dtypes) so
/// later reads cannot go out of bounds; tensors are then copied out with <see cref="Load"/> or
/// <see cref="ReadInto"/>, or read in place with <see cref="GetBytes"/> while the file stays open.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>The reference implementation's header limit; anything bigger is not a real checkpoint.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _data;
    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* data,
        List<SafetensorsEntry> ordered, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _data = data;
        Entries = ordered;
        _entries = ordered.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Names = ordered.Select(e => e.Name).ToArray();
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>Tensor names in storage order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> string map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    public static SafetensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        long length;
        try
        {
            length = new FileInfo(path).Length;
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }
        if (length < 8)
            throw new FileFormatException(path, $"{length} bytes is too short for a safetensors file (it starts with an 8-byte header size)");

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            acquired = true;
            start += view.PointerOffset;
            long headerSize = ReadHeaderSize(path, new ReadOnlySpan<byte>(start, 8), length);
            var (ordered, metadata) = ParseHeader(path, new ReadOnlySpan<byte>(start + 8, (int)headerSize), length - 8 - headerSize);
            return new SafetensorsFile(path, map, view, start + 8 + headerSize, ordered, metadata);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether a file starts the way a safetensors file does: an 8-byte little-endian header size that fits
    /// the file, then a JSON object. Judged from the bytes, whatever the name; false for a missing file.
    /// </summary>
    public static bool HasSafetensorsHeader(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) return false;
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[9];
        if (stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false) < prefix.Length) return false;
        ulong n = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        return n >= 2 && n <= MaxHeaderBytes && (long)n <= stream.Length - 8 && prefix[8] == (byte)'{';
    }

    /// <summary>The bytes of one tensor as stored (little-endian); valid until the file is disposed.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = Entry(name);
        if (e.Length > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor '{name}' has {e.Length} bytes, too many for one span; use Load");
        return new ReadOnlySpan<byte>(_data + e.Offset, (int)e.Length);
    }

    /// <summary>A CPU copy of one tensor. BF16 is widened to F32 exactly; other dtypes the engine lacks are refused.</summary>
    public Tensor Load(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = Entry(name);
        var tensor = Tensor.Empty(e.Shape, Loadable(e), Device.Cpu);
        try
        {
            ReadInto(name, tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    /// <summary>The dtype a tensor is read in when floats are wanted in float32: F16 widened, others as <see cref="Load"/> gives them.</summary>
    public DType Float32ReadType(string name)
    {
        var dtype = Loadable(Entry(name));
        return dtype == DType.Float16 ? DType.Float32 : dtype;
    }

    /// <summary>
    /// Copies one tensor into <paramref name="destination"/>, a CPU tensor of its shape, in the dtype it loads as
    /// or, for F16 and BF16, in float32 (widened exactly in the same pass, so a model that computes in float32
    /// touches the weights once). Safe to call from several threads for different destinations.
    /// </summary>
    public void ReadInto(string name, Tensor destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = Entry(name);
        if (!destination.Device.IsCpu || destination.Shape != e.Shape)
            throw new ArgumentException($"{Path}: tensor '{name}' {e.Shape} cannot be read into a {destination.Shape} tensor on {destination.Device}");
        bool widens = e.StoredDType is "F16" or "BF16" && destination.DType == DType.Float32;
        if (!widens && destination.DType != e.DType)
            throw new ArgumentException($"{Path}: tensor '{name}' is {e.StoredDType}, which cannot be read into {destination.DType.Name()}");
        if (e.Length == 0) return;
        byte* source = _data + e.Offset;
        if (!widens)
        {
            Buffer.MemoryCopy(source, (void*)destination.Pointer, destination.Bytes, e.Length);
            return;
        }
        var dest = new Span<float>((void*)destination.Pointer, checked((int)destination.Numel));
        if (e.StoredDType == "F16")
        {
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(source, dest.Length), dest);
            return;
        }
        var bf16 = new ReadOnlySpan<ushort>(source, dest.Length);
        for (int i = 0; i < dest.Length; i++) dest[i] = BitConverter.UInt32BitsToSingle((uint)bf16[i] << 16);
    }

    /// <summary>Every tensor, in storage order. The caller disposes them.</summary>
    public Dictionary<string, Tensor> LoadAll()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in Names) result.Add(name, Load(name));
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _map?.Dispose();
    }

    private DType Loadable(SafetensorsEntry e) => e.DType ??
        throw new FileFormatException(Path, $"tensor '{e.Name}' has dtype {e.StoredDType}, which the engine cannot load (supported: {SafetensorsDTypes.Supported})");

    private static long ReadHeaderSize(string path, ReadOnlySpan<byte> prefix, long fileLength)
    {
        ulong n = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new FileFormatException(path, $"header size {n} exceeds the {MaxHeaderBytes}-byte limit (not a safetensors file, or corrupt)");
        if ((long)n > fileLength - 8)
            throw new FileFormatException(path, $"header size {n} runs past the end of the file ({fileLength} bytes; truncated?)");
        return (long)n;
    }

    private static (List<SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            Expect(path, reader.Read() && reader.TokenType == JsonTokenType.StartObject, "header is not a JSON object");
            while (true)
            {
                Expect(path, reader.Read(), "header JSON ends early");
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string key = reader.GetString()!;
                if (!seen.Add(key)) throw new FileFormatException(path, $"header names '{key}' twice");
                Expect(path, reader.Read(), "header JSON ends early");
                if (key == MetadataKey) ReadMetadata(path, ref reader, metadata);
                else entries.Add(ReadEntry(path, key, ref reader));
            }
            // Only padding may follow the object; the reader rejects anything else.
            Expect(path, !reader.Read(), "header has data after its JSON object");
        }
        catch (JsonException e)
        {
            throw new FileFormatException(path, $"header is not valid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            throw new FileFormatException(path, $"header JSON has an unexpected value type ({e.Message})", e);
        }
        ValidateOffsets(path, entries, dataLength);
        return (entries, metadata);
    }

    private static void ReadMetadata(string path, ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        Expect(path, reader.TokenType == JsonTokenType.StartObject, $"{MetadataKey} is not an object of strings");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            Expect(path, reader.Read() && reader.TokenType == JsonTokenType.String, $"{MetadataKey} entry '{key}' is not a string");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw new FileFormatException(path, $"{MetadataKey} names '{key}' twice");
        }
    }

    private static SafetensorsEntry ReadEntry(string path, string name, ref Utf8JsonReader reader)
    {
        Expect(path, reader.TokenType == JsonTokenType.StartObject, $"tensor '{name}' is not a JSON object");
        string? dtype = null;
        List<long>? shape = null;
        List<long>? offsets = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype":
                    Expect(path, reader.TokenType == JsonTokenType.String, $"tensor '{name}': dtype is not a string");
                    dtype = reader.GetString();
                    break;
                case "shape":
                    shape = ReadIntegers(path, name, field, ref reader);
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(path, name, field, ref reader);
                    break;
                default:
                    // Other writers may add fields; like the reference reader, ignore them.
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw new FileFormatException(path, $"tensor '{name}' lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        if (!SafetensorsDTypes.TryGetBits(dtype, out int bits))
            throw new FileFormatException(path, $"tensor '{name}' has unknown dtype '{dtype}'");
        if (offsets.Count != 2)
            throw new FileFormatException(path, $"tensor '{name}': data_offsets must be [begin, end], got {offsets.Count} numbers");
        var dims = new int[shape.Count];
        long elements = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (shape[i] > int.MaxValue)
                throw new FileFormatException(path, $"tensor '{name}': dimension {shape[i]} is too large");
            dims[i] = (int)shape[i];
            elements = Multiply(path, name, elements, shape[i]);
        }
        long totalBits = Multiply(path, name, elements, bits);
        if (totalBits % 8 != 0)
            throw new FileFormatException(path, $"tensor '{name}': {elements} elements of {dtype} do not fill whole bytes");
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw new FileFormatException(path, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
        if (end - begin != totalBits / 8)
            throw new FileFormatException(path,
                $"tensor '{name}': shape [{string.Join(", ", dims)}] of {dtype} needs {totalBits / 8} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
        return new SafetensorsEntry(name, dtype, SafetensorsDTypes.LoadsAs(dtype), new Shape(dims), begin, end - begin);
    }

    private static List<long> ReadIntegers(string path, string name, string field, ref Utf8JsonReader reader)
    {
        Expect(path, reader.TokenType == JsonTokenType.StartArray, $"tensor '{name}': {field} is not an array");
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw new FileFormatException(path, $"tensor '{name}': {field} holds something other than a non-negative integer");
            if (values.Count >= 64) throw new FileFormatException(path, $"tensor '{name}': {field} has more than 64 entries");
            values.Add(v);
        }
        return values;
    }

    private static void ValidateOffsets(string path, List<SafetensorsEntry> entries, long dataLength)
    {
        entries.Sort((a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : a.Length.CompareTo(b.Length));
        long expected = 0;
        string? previous = null;
        foreach (var e in entries)
        {
            if (e.Offset != expected)
            {
                string what = e.Offset < expected ? "overlaps" : "leaves a gap after";
                string after = previous is null ? "the start of the data (the first tensor must begin at 0)" : $"tensor '{previous}', which ends at {expected}";
                throw new FileFormatException(path, $"tensor '{e.Name}' starts at {e.Offset} and {what} {after}; tensors must be contiguous");
            }
            expected = e.Offset + e.Length;
            previous = e.Name;
        }
        if (expected > dataLength)
            throw new FileFormatException(path, $"tensor data ends at byte {expected} but the file holds only {dataLength} data bytes (truncated?)");
        if (expected < dataLength)
            throw new FileFormatException(path, $"{dataLength - expected} trailing bytes after the last tensor");
    }

    private static long Multiply(string path, string name, long a, long b)
    {
        try
        {
            return checked(a * b);
        }
        catch (OverflowException)
        {
            throw new FileFormatException(path, $"tensor '{name}': size overflows");
        }
    }

    private static void Expect(string path, bool condition, string problem)
    {
        if (!condition) throw new FileFormatException(path, problem);
    }
}
