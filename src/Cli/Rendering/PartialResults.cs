using System.Text;
using System.Text.Json;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// What an interrupted `segment` left in FILE.partial: one line per finished image,
/// {"input": "/full/path.jpg", "results": [COCO results records]}, each written and flushed whole. A kill can
/// tear only the line being written, the last one; it lacks its newline or is not JSON, and is dropped.
/// </summary>
internal sealed record PartialResults(IReadOnlySet<string> Inputs, int Records, long CompleteLength, bool DroppedTornLine)
{
    public const string Suffix = ".partial";

    public static PartialResults Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var inputs = new HashSet<string>(StringComparer.Ordinal);
        int records = 0, line = 0;
        long start = 0;
        while (start < bytes.Length)
        {
            line++;
            int newline = Array.IndexOf(bytes, (byte)'\n', (int)start);
            var entry = newline < 0 ? null : Parse(bytes.AsMemory((int)start, newline - (int)start));
            if (entry is null)
            {
                // Only the last line can be torn: an earlier bad line means the file is not what segment wrote.
                if (newline >= 0 && newline + 1 < bytes.Length)
                    throw new FormatException($"{path}: line {line} is not a finished image's results; delete the file to start over");
                return new(inputs, records, start, DroppedTornLine: true);
            }
            inputs.Add(entry.Value.Input);
            records += entry.Value.Records;
            start = newline + 1;
        }
        return new(inputs, records, start, DroppedTornLine: false);
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

    /// <summary>Every record of every complete line of <paramref name="partial"/>, in order.</summary>
    public static IEnumerable<JsonElement> RecordsOf(Stream partial)
    {
        var reader = new StreamReader(partial, Encoding.UTF8, leaveOpen: true);
        while (reader.ReadLine() is { } line)
        {
            using var document = JsonDocument.Parse(line);
            foreach (var record in document.RootElement.GetProperty("results").EnumerateArray()) yield return record.Clone();
        }
    }

    private static (string Input, int Records)? Parse(ReadOnlyMemory<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.String
                && root.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array)
                return (input.GetString()!, results.GetArrayLength());
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
