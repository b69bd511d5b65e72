using System.Buffers.Binary;
using System.Text;

namespace NativeSeg.Engine.Formats.Checkpoints;

/// <summary>
/// The central directory of a zip whose payloads are stored uncompressed (what torch.save writes),
/// parsed by hand because System.IO.Compression does not expose where an entry's bytes start, and
/// those offsets let tensors be copied straight out of the memory-mapped file.
/// </summary>
internal sealed class StoredZip
{
    private const int MaxEntries = 1_000_000;

    private readonly Dictionary<string, (long Offset, long Length, int Method)> _entries = new(StringComparer.Ordinal);

    private StoredZip(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public IEnumerable<string> Names => _entries.Keys;

    public static unsafe StoredZip Parse(string path, byte* file, long length)
    {
        var zip = new StoredZip(path);
        var data = new Reader(path, file, length);
        long eocd = FindEndRecord(data, length);
        long count = data.U16(eocd + 10);
        long directorySize = data.U32(eocd + 12);
        long directory = data.U32(eocd + 16);
        if (count == 0xFFFF || directorySize == 0xFFFFFFFF || directory == 0xFFFFFFFF)
        {
            long locator = eocd - 20;
            if (locator < 0 || data.U32(locator) != 0x07064b50) throw zip.Error("ZIP64 sizes without a ZIP64 locator");
            long record = data.I64(locator + 8);
            if (data.U32(record) != 0x06064b50) throw zip.Error("ZIP64 locator points at no ZIP64 end record");
            count = data.I64(record + 32);
            directorySize = data.I64(record + 40);
            directory = data.I64(record + 48);
        }
        if (count > MaxEntries) throw zip.Error($"{count} entries is more than the {MaxEntries} allowed");
        if (directory > length || directorySize > length - directory) throw zip.Error("central directory lies outside the file (truncated?)");
        long at = directory;
        for (long i = 0; i < count; i++)
        {
            if (data.U32(at) != 0x02014b50) throw zip.Error($"central directory entry {i} is corrupt");
            int method = data.U16(at + 10);
            long compressed = data.U32(at + 20);
            long size = data.U32(at + 24);
            int nameLength = data.U16(at + 28), extraLength = data.U16(at + 30), commentLength = data.U16(at + 32);
            long local = data.U32(at + 42);
            string name = data.Text(at + 46, nameLength);
            ReadZip64Extra(data, at + 46 + nameLength, extraLength, ref size, ref compressed, ref local);
            if (data.U32(local) != 0x04034b50) throw zip.Error($"entry '{name}' has no local header where the directory says");
            long start = local + 30 + data.U16(local + 26) + data.U16(local + 28);
            if (start > length || compressed > length - start) throw zip.Error($"entry '{name}' runs past the end of the file (truncated?)");
            if (method == 0 && compressed != size) throw zip.Error($"stored entry '{name}' has differing sizes {compressed} and {size}");
            if (!zip._entries.TryAdd(name, (start, compressed, method))) throw zip.Error($"entry '{name}' appears twice");
            at += 46 + nameLength + extraLength + commentLength;
        }
        return zip;
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Offset and length of an entry's bytes in the file; compressed entries are refused.</summary>
    public (long Offset, long Length) Stored(string name)
    {
        if (!_entries.TryGetValue(name, out var e)) throw Error($"entry '{name}' is missing");
        if (e.Method != 0) throw Error($"entry '{name}' is compressed (method {e.Method}); torch.save writes uncompressed entries");
        return (e.Offset, e.Length);
    }

    public CheckpointFormatException Error(string problem) => new(Path, $"zip: {problem}");

    private static long FindEndRecord(Reader data, long length)
    {
        long lowest = Math.Max(0, length - 22 - 0xFFFF);
        for (long at = length - 22; at >= lowest; at--)
        {
            if (data.U32(at) == 0x06054b50) return at;
        }
        throw new CheckpointFormatException(data.Path, "zip: no end-of-central-directory record (truncated or not a zip)");
    }

    private static void ReadZip64Extra(Reader data, long at, int length, ref long size, ref long compressed, ref long local)
    {
        long end = at + length;
        while (at + 4 <= end)
        {
            int id = data.U16(at), fieldLength = data.U16(at + 2);
            long field = at + 4;
            if (id == 1)
            {
                // Only the values that overflowed 32 bits are present, in this order.
                if (size == 0xFFFFFFFF) { size = data.I64(field); field += 8; }
                if (compressed == 0xFFFFFFFF) { compressed = data.I64(field); field += 8; }
                if (local == 0xFFFFFFFF) local = data.I64(field);
                return;
            }
            at = field + fieldLength;
        }
    }

    /// <summary>Bounds-checked little-endian reads from the mapped file.</summary>
    private readonly unsafe struct Reader(string path, byte* file, long length)
    {
        public string Path => path;

        public int U16(long at) => BinaryPrimitives.ReadUInt16LittleEndian(Span(at, 2));

        public long U32(long at) => BinaryPrimitives.ReadUInt32LittleEndian(Span(at, 4));

        public long I64(long at)
        {
            long v = BinaryPrimitives.ReadInt64LittleEndian(Span(at, 8));
            if (v < 0) throw new CheckpointFormatException(path, $"zip: 64-bit field at {at} is out of range");
            return v;
        }

        public string Text(long at, int count) => Encoding.UTF8.GetString(Span(at, count));

        private ReadOnlySpan<byte> Span(long at, int count)
        {
            if (at < 0 || at > length - count) throw new CheckpointFormatException(path, $"zip: structure at byte {at} lies outside the file (truncated?)");
            return new ReadOnlySpan<byte>(file + at, count);
        }
    }
}
