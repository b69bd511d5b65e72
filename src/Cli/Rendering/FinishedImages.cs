namespace NativeSeg.Cli.Rendering;

/// <summary>What an interrupted `segment` already wrote to its results lines: which inputs it finished, and where its complete lines end.</summary>
internal sealed class FinishedImages
{
    private readonly HashSet<UInt128> _inputs = [];

    private FinishedImages()
    {
    }

    public int Count => _inputs.Count;

    public int Records { get; private set; }

    /// <summary>Bytes of complete lines: a resumed run cuts the file here and appends after.</summary>
    public long CompleteLength { get; private set; }

    public bool DroppedTornLine { get; private set; }

    public static FinishedImages Read(string path)
    {
        var finished = new FinishedImages();
        foreach (var entry in ResultLines.Read(path, _ => finished.DroppedTornLine = true))
        {
            finished._inputs.Add(ResultLines.Digest(entry.Input));
            finished.Records += entry.Results.GetArrayLength();
            finished.CompleteLength = entry.End;
        }
        return finished;
    }

    public bool Contains(string input) => _inputs.Contains(ResultLines.Digest(input));
}
