using System.IO.MemoryMappedFiles;
using NativeSeg.Engine.Formats.Pickle;

namespace NativeSeg.Engine.Formats.Checkpoints;

/// <summary>
/// Reads PyTorch (torch.save zip), detectron2 (.pkl of numpy arrays, .pth) and mmcv checkpoints into a
/// <see cref="StateDict"/> through the allow-list unpickler. Every failure is a <see cref="CheckpointFormatException"/>.
/// </summary>
public static unsafe class CheckpointReader
{
    // torch's legacy (pre-1.6) format starts with a pickled 10-byte magic number.
    private static ReadOnlySpan<byte> LegacyMagic => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    private static ReadOnlySpan<byte> ZipMagic => "PK\x03\x04"u8;

    public static StateDict Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        long length = new FileInfo(path).Length;
        if (length == 0) throw new CheckpointFormatException(path, "file is empty");
        using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* file = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref file);
        try
        {
            file += view.PointerOffset;
            var head = new ReadOnlySpan<byte>(file, (int)Math.Min(length, 16));
            if (head.StartsWith(ZipMagic)) return LoadZip(path, file, length);
            if (head.StartsWith(LegacyMagic))
                throw new CheckpointFormatException(path,
                    "legacy (pre-1.6) torch.save format is not supported; re-save it with torch>=1.6: torch.save(torch.load(f), f2), which writes the zip format");
            return LoadPickle(path, file, length);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private static StateDict LoadZip(string path, byte* file, long length)
    {
        var zip = StoredZip.Parse(path, file, length);
        string pickleName = zip.Names.FirstOrDefault(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length)
            ?? throw zip.Error("no <archive>/data.pkl entry; not a torch.save checkpoint");
        string prefix = pickleName[..^"data.pkl".Length];
        bool bigEndian = false;
        if (zip.Contains(prefix + "byteorder"))
        {
            var (at, size) = zip.Stored(prefix + "byteorder");
            string order = System.Text.Encoding.ASCII.GetString(new ReadOnlySpan<byte>(file + at, (int)Math.Min(size, 16)));
            bigEndian = order switch
            {
                "little" => false,
                "big" => true,
                _ => throw zip.Error($"byteorder entry says '{order}', not 'little' or 'big'"),
            };
        }
        var (pickleAt, pickleLength) = zip.Stored(pickleName);
        if (pickleLength > int.MaxValue) throw zip.Error("data.pkl is larger than 2 GiB");
        var pickle = new UnmanagedMemory(file + pickleAt, (int)pickleLength);
        object? root = PickleReader.Load(pickle.Memory, path,
            pid => PickleAllowList.StorageFromPersistentId(pid, problem => new CheckpointFormatException(path, $"pickle: {problem}")));
        var (format, entries) = Unwrap(path, root, "torch zip");
        var result = new StateDict(path, format);
        try
        {
            foreach (var (name, value) in entries)
            {
                if (value is not TorchTensorRef tensor)
                    throw new CheckpointFormatException(path, $"entry '{name}' is a {PickleReader.TypeName(value)}, not a tensor");
                string entry = prefix + "data/" + tensor.Storage.Key;
                var (at, size) = zip.Stored(entry);
                result.Add(StripModule(name), TensorBuilder.FromStorage(path, name, tensor, file + at, size, bigEndian));
            }
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    private static StateDict LoadPickle(string path, byte* file, long length)
    {
        if (length > int.MaxValue) throw new CheckpointFormatException(path, "pickle checkpoints over 2 GiB are not supported");
        var pickle = new UnmanagedMemory(file, (int)length);
        object? root = PickleReader.Load(pickle.Memory, path);
        var (format, entries) = Unwrap(path, root, "pickle");
        var result = new StateDict(path, format);
        try
        {
            foreach (var (name, value) in entries)
            {
                if (value is not NumpyArray { Built: true } array)
                    throw new CheckpointFormatException(path, $"entry '{name}' is a {PickleReader.TypeName(value)}, not a numpy array");
                result.Add(StripModule(name), TensorBuilder.FromNumpy(path, name, array));
            }
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Finds the weights inside the known wrappers: detectron2 {"model", "__author__"}, mmcv {"state_dict", "meta"}, d2 .pth {"model", ...}, Caffe2 {"blobs"}.</summary>
    private static (string Format, List<(string Name, object? Value)> Entries) Unwrap(string path, object? root, string format)
    {
        if (root is not PickleDict top) throw new CheckpointFormatException(path, $"checkpoint holds a {PickleReader.TypeName(root)}, not a dict of tensors");
        PickleDict weights = top;
        bool caffe2 = false;
        if (top.TryGet("model", out var model) && model is PickleDict m)
        {
            weights = m;
            format = top.TryGet("__author__", out _) ? "detectron2 " + format : format + " {model}";
        }
        else if (top.TryGet("state_dict", out var stateDict) && stateDict is PickleDict s)
        {
            weights = s;
            format = "mmcv";
        }
        else if (top.TryGet("blobs", out var blobs) && blobs is PickleDict b)
        {
            weights = b;
            caffe2 = true;
            format = "caffe2 " + format;
        }
        var entries = new List<(string, object?)>();
        foreach (var (key, value) in weights.Items)
        {
            if (key is not string name) throw new CheckpointFormatException(path, $"weights have a {PickleReader.TypeName(key)} key, not a string");
            // Detectron1/Caffe2 files carry optimiser momenta next to the weights.
            if (caffe2 && name.EndsWith("_momentum", StringComparison.Ordinal)) continue;
            entries.Add((name, value));
        }
        return (format, entries);
    }

    private static string StripModule(string name) => name.StartsWith("module.", StringComparison.Ordinal) ? name["module.".Length..] : name;

    /// <summary>Lets the pickle reader slice the mapped file as memory without copying it.</summary>
    private sealed class UnmanagedMemory(byte* pointer, int length) : System.Buffers.MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(pointer, length);

        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
