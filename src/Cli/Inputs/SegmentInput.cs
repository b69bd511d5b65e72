namespace NativeSeg.Cli.Inputs;

/// <summary>One image to segment, as an input source names it.</summary>
/// <param name="Path">The file to read, or "-" for standard input.</param>
/// <param name="RelativePath">The path below its source ('/'-separated): what --shard hashes and the overlay is named after, so neither depends on where the data is mounted.</param>
/// <param name="Position">1-based position among every input of the run, other shards' included: the image id without an annotation file.</param>
/// <param name="ImageId">The annotation file's id of the image, when the source is an annotation file.</param>
/// <param name="Origin">Where the input was named, for messages ("list.txt:12", the folder given, or the argument).</param>
internal sealed record SegmentInput(string Path, string RelativePath, long Position, long? ImageId, string Origin)
{
    public bool IsStandardInput => Path == "-";

    /// <summary>How results files and resumed runs identify the input across runs: its full path, or "-".</summary>
    public string Key => IsStandardInput ? Path : System.IO.Path.GetFullPath(Path);

    /// <summary>The results' file_name and the overlay's base name.</summary>
    public string FileName => IsStandardInput ? "stdin" : System.IO.Path.GetFileName(Path);
}
