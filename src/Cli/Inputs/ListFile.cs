namespace NativeSeg.Cli.Inputs;

/// <summary>
/// `--list FILE`: one image path per line, read a line at a time. A relative path is relative to the list's own
/// folder, so the list means the same files from any working folder (and on every node of a cluster); blank
/// lines are skipped, and a trailing carriage return (a list written on Windows) is not part of the path.
/// </summary>
internal static class ListFile
{
    /// <summary>Each entry: the path to read, its path relative to the list's folder ('/'-separated) and its line number.</summary>
    public static IEnumerable<(string Path, string Relative, int Line)> Entries(string list)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(list))!;
        int number = 0;
        foreach (string raw in File.ReadLines(list))
        {
            number++;
            string entry = raw.TrimEnd('\r');
            if (entry.Trim().Length == 0) continue;
            string path = Path.Combine(folder, entry);
            yield return (path, RelativePaths.Below(folder, path), number);
        }
    }
}
