using System.Text.Json;
using NativeSeg.Engine.Formats;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// COCO results JSON written so that finished images are never lost: each image's records are appended
/// to "FILE.partial" (one line per image, see <see cref="PartialResults"/>, flushed to disk) as soon as it is
/// done; <see cref="Complete"/> turns those lines into FILE atomically and removes the partial file. After a
/// crash or kill, FILE.partial holds every finished image, and <see cref="Resume"/> continues it.
/// </summary>
internal sealed class CocoResultsWriter : IResultsSink
{
    private readonly string _path;
    private readonly FileStream _partial;

    private CocoResultsWriter(string path, FileMode mode)
    {
        _path = path;
        PartialPath = path + PartialResults.Suffix;
        _partial = new FileStream(PartialPath, mode, FileAccess.ReadWrite, FileShare.Read);
    }

    /// <summary>A new results file; the caller has made sure no partial file of an earlier run is in the way.</summary>
    public static CocoResultsWriter Start(string path) => new(path, FileMode.CreateNew);

    /// <summary>Continues an interrupted run's partial file after its last complete line (a torn line after it is cut off).</summary>
    public static CocoResultsWriter Resume(string path, PartialResults finished)
    {
        var writer = new CocoResultsWriter(path, FileMode.Open);
        writer._partial.SetLength(finished.CompleteLength);
        writer._partial.Position = finished.CompleteLength;
        writer.Records = finished.Records;
        return writer;
    }

    private string PartialPath { get; }

    public int Records { get; private set; }

    public void Add(string input, long imageId, string fileName, IReadOnlyList<SegmentedInstance> instances)
    {
        PartialResults.WriteLine(_partial, input, json => CocoResultRecords.Write(json, imageId, fileName, instances));
        _partial.Flush(flushToDisk: true);
        Records += instances.Count;
    }

    /// <summary>Writes FILE as one JSON array of every record so far and, unless interrupted, deletes the partial file.</summary>
    public void Complete(bool interrupted)
    {
        _partial.Flush(flushToDisk: true);
        _partial.Position = 0;
        AtomicFile.Write(_path, stream =>
        {
            using var json = new Utf8JsonWriter(stream);
            json.WriteStartArray();
            foreach (var record in PartialResults.RecordsOf(_partial)) record.WriteTo(json);
            json.WriteEndArray();
        });
        _partial.Dispose();
        if (!interrupted) File.Delete(PartialPath);
    }

    public void Dispose() => _partial.Dispose();
}
