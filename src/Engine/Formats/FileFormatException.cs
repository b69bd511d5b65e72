namespace NativeSeg.Engine.Formats;

/// <summary>
/// A file that is not what its format requires: truncated, corrupt, inconsistent or beyond a limit.
/// The message always starts with the file's path so the user knows which input to fix.
/// </summary>
public class FileFormatException : FormatException
{
    public FileFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    public string FilePath { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }
}
