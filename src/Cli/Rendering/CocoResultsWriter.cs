using System.Text.Json;
using NativeSeg.Engine.Formats;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// Results written so that finished images are never lost: each image's records are appended as one line
/// (see <see cref="ResultLines"/>) and handed to the operating system as soon as it is done, so a killed process
/// (SIGKILL, a preempted or requeued Slurm task) loses nothing it finished. They are forced to disk at most
/// <see cref="SyncInterval"/> apart, not per image: an fsync per image cost 0.6 s here on a busy disk, eight times
/// the segmenting of a small image, and what a machine crash can lose in between is redone by --resume. A .jsonl target is that lines
/// file itself; any other FILE gets its lines in "FILE.partial", which <see cref="Complete"/> turns into the
/// COCO results array FILE atomically before removing it. After a crash or kill the lines hold every finished
/// image, and <see cref="Resume"/> continues them.
/// </summary>
internal sealed class CocoResultsWriter : IResultsSink
{
    public static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(10);

    private readonly string _path;
    private readonly FileStream _lines;
    private readonly System.Diagnostics.Stopwatch _sinceSync = System.Diagnostics.Stopwatch.StartNew();

    private CocoResultsWriter(string path, FileMode mode)
    {
        _path = path;
        _lines = new FileStream(LinesPath(path), mode, FileAccess.ReadWrite, FileShare.Read);
    }

    /// <summary>Where the lines of a run writing <paramref name="path"/> go.</summary>
    public static string LinesPath(string path) => ResultLines.IsLinesFile(path) ? path : path + ResultLines.PartialSuffix;

    /// <summary>New results; the caller has made sure no lines of an earlier run are in the way (an empty .jsonl file may be).</summary>
    public static CocoResultsWriter Start(string path) => new(path, ResultLines.IsLinesFile(path) ? FileMode.Create : FileMode.CreateNew);

    /// <summary>Continues an interrupted run's lines after its last complete one (a torn line after it is cut off).</summary>
    public static CocoResultsWriter Resume(string path, FinishedImages finished)
    {
        var writer = new CocoResultsWriter(path, FileMode.Open);
        writer._lines.SetLength(finished.CompleteLength);
        writer._lines.Position = finished.CompleteLength;
        writer.Records = finished.Records;
        return writer;
    }

    public int Records { get; private set; }

    public void Add(string input, long imageId, string fileName, IReadOnlyList<SegmentedInstance> instances)
    {
        ResultLines.WriteLine(_lines, input, json => CocoResultRecords.Write(json, imageId, fileName, instances));
        bool sync = _sinceSync.Elapsed >= SyncInterval;
        _lines.Flush(flushToDisk: sync);
        if (sync) _sinceSync.Restart();
        Records += instances.Count;
    }

    /// <summary>
    /// A .jsonl target is complete as it stands. Otherwise FILE is written as one JSON array of every record so
    /// far and, unless interrupted, the partial file deleted.
    /// </summary>
    public void Complete(bool interrupted)
    {
        _lines.Flush(flushToDisk: true);
        if (ResultLines.IsLinesFile(_path))
        {
            _lines.Dispose();
            return;
        }
        string partial = _lines.Name;
        AtomicFile.Write(_path, stream =>
        {
            using var json = new Utf8JsonWriter(stream);
            json.WriteStartArray();
            foreach (var entry in ResultLines.Read(partial, _ => { }))
                foreach (var record in entry.Results.EnumerateArray()) record.WriteTo(json);
            json.WriteEndArray();
        });
        _lines.Dispose();
        if (!interrupted) File.Delete(partial);
    }

    public void Dispose() => _lines.Dispose();
}
