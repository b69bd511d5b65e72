using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// Where `segment` writes its results, and what an interrupted earlier run already finished there: its lines
/// (FILE.jsonl itself, or FILE.partial on the way to a COCO array FILE) are resumed with --resume and otherwise
/// refused, never silently overwritten.
/// </summary>
internal sealed class SegmentResults
{
    private readonly string _path;

    private SegmentResults(string path, FinishedImages? finished)
    {
        _path = path;
        Finished = finished;
    }

    /// <summary>Images an earlier run finished, or null when starting afresh.</summary>
    public FinishedImages? Finished { get; }

    public bool ToStandardOutput => _path == StandardStreams.Name;

    /// <summary>Where the results go, for messages.</summary>
    public string Target => ToStandardOutput ? "standard output" : _path;

    /// <summary>Checks the results path before anything runs; null after saying on <paramref name="error"/> why it cannot be used.</summary>
    public static SegmentResults? Plan(string path, bool resume, TextWriter output, TextWriter error)
    {
        if (path == StandardStreams.Name)
        {
            if (!resume) return new(path, null);
            error.WriteLine("error: --resume continues a results file; --json - writes to standard output, which cannot be resumed");
            return null;
        }
        string lines = CocoResultsWriter.LinesPath(path);
        if (!File.Exists(lines))
        {
            if (resume) output.WriteLine($"nothing to resume ({lines} does not exist): segmenting every input");
            return new(path, null);
        }
        FinishedImages finished;
        try
        {
            finished = FinishedImages.Read(lines);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return null;
        }
        if (!resume)
        {
            if (finished.Count == 0 && !finished.DroppedTornLine && ResultLines.IsLinesFile(path)) return new(path, null);
            error.WriteLine($"error: {lines} holds the results of {finished.Count} images finished by an interrupted run; "
                + "add --resume to keep them and segment only the rest, or delete it to start over");
            return null;
        }
        output.WriteLine($"resuming {lines}: {finished.Count} finished images are skipped"
            + (finished.DroppedTornLine ? "; its last line, cut off by the interruption, is dropped and that image segmented again" : ""));
        return new(path, finished);
    }

    public IResultsSink Open(TextWriter standardOutput)
    {
        if (ToStandardOutput) return new CocoResultsStream(standardOutput);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(_path));
        if (folder is not null) Directory.CreateDirectory(folder);
        return Finished is null ? CocoResultsWriter.Start(_path) : CocoResultsWriter.Resume(_path, Finished);
    }

    public bool IsFinished(string key) => Finished?.Contains(key) == true;
}
