using System.Text;
using System.Text.Json;
using NativeSeg.Engine.Formats.Json;
using NativeSeg.Engine.Formats;

namespace NativeSeg.Models.Training;

/// <summary>
/// metrics.jsonl: one JSON object per iteration (iter, lr, loss, one field per loss term, seconds), appended and
/// flushed as each iteration ends so a killed run keeps every finished line. Resuming from a checkpoint first
/// drops the lines of iterations the checkpoint does not contain (and a torn last line), so the file reads as
/// one uninterrupted run.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    private MetricsLog(StreamWriter writer) => _writer = writer;

    /// <param name="iterationsDone">Iterations already done (0 for a new run); later lines are discarded.</param>
    public static MetricsLog Open(string path, int iterationsDone)
    {
        if (File.Exists(path))
        {
            var kept = File.ReadAllLines(path).Where(line => IterationOf(line) is { } i && i < iterationsDone).ToList();
            AtomicFile.Write(path, stream =>
            {
                var bytes = Encoding.UTF8.GetBytes(string.Concat(kept.Select(l => l + "\n")));
                stream.Write(bytes);
            });
        }
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        return new MetricsLog(new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" });
    }

    public void Append(int iteration, float learningRate, double loss, IReadOnlyList<(string Name, double Value)> terms, double seconds)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("iter", iteration);
            json.WriteNumber("lr", learningRate);
            json.WriteNumber("loss", loss);
            foreach (var (name, value) in terms) json.WriteNumber(name, value);
            json.WriteNumber("seconds", Math.Round(seconds, 4));
            json.WriteEndObject();
        }
        _writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        _writer.Flush();
    }

    /// <summary>The "iter" of a complete line, or null for a torn or foreign one.</summary>
    private static int? IterationOf(string line)
    {
        try
        {
            using var doc = StrictJson.Parse(line);
            return doc.RootElement.TryGetProperty("iter", out var iter) && iter.TryGetInt32(out int i) ? i : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _writer.Dispose();
}
