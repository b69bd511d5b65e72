using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NativeSeg.Engine.Formats.Json;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// NativeSeg's results as JSON Lines: one line per finished image, {"input": "/full/path.jpg", "results": [COCO
/// results records]}, each written and flushed whole. `segment` appends them to FILE.jsonl itself, or to
/// FILE.partial on the way to a COCO results array FILE. A kill can tear only the line being written, the
/// last one: it lacks its newline or is not JSON. Any other bad line means the file is not what segment wrote.
/// </summary>
internal static class ResultLines
{
    public const string PartialSuffix = ".partial";

    /// <summary>One finished image's line; <see cref="Results"/> is valid until the next line is read.</summary>
    public sealed record Entry(int Line, string Input, JsonElement Results, long End);

    /// <summary>Whether results written to <paramref name="path"/> are JSON Lines (a .jsonl file) rather than one COCO results array.</summary>
    public static bool IsLinesFile(string path) => path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Every complete line of the file, in order. A torn last line is left out and its number passed to
    /// <paramref name="tornLastLine"/>; a bad line before the last is a FormatException naming it.
    /// </summary>
    public static IEnumerable<Entry> Read(string path, Action<int> tornLastLine)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        foreach (var line in JsonLineReader.Lines(stream))
        {
            using var document = line.HasNewline ? Parse(line.Bytes) : null;
            if (document is null)
            {
                if (!line.IsLast) throw new FormatException($"{path}: line {line.Number} is not a finished image's results; the file is not what segment writes");
                tornLastLine(line.Number);
                yield break;
            }
            var root = document.RootElement;
            yield return new(line.Number, root.GetProperty("input").GetString()!, root.GetProperty("results"), line.End);
        }
    }

    /// <summary>Writes one finished image's line (newline included) to <paramref name="stream"/>.</summary>
    public static void WriteLine(Stream stream, string input, Action<Utf8JsonWriter> writeRecords)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("input", input);
            json.WriteStartArray("results");
            writeRecords(json);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// An input's identity in a set of finished images: 16 bytes of its key's SHA-256, so a resumed shard or a
    /// merge of millions of images holds a fixed size per image, not its path.
    /// </summary>
    public static UInt128 Digest(string input)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(input), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private static JsonDocument? Parse(ReadOnlyMemory<byte> line)
    {
        JsonDocument? document = null;
        try
        {
            document = StrictJson.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.String
                && root.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array)
                return document;
        }
        catch (JsonException)
        {
        }
        document?.Dispose();
        return null;
    }
}
