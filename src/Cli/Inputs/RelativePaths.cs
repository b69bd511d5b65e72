namespace NativeSeg.Cli.Inputs;

/// <summary>Paths below an input's source, '/'-separated and never leaving the output folder when an overlay is named after one.</summary>
internal static class RelativePaths
{
    /// <summary><paramref name="path"/> relative to <paramref name="folder"/>; a path outside it keeps its full path, without the leading '/'.</summary>
    public static string Below(string folder, string path)
    {
        string relative = Path.GetRelativePath(Path.GetFullPath(folder), Path.GetFullPath(path));
        return Clean(relative.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(path) : relative);
    }

    /// <summary>Backslashes as '/', and no empty, "." or ".." components, so OUT/relative stays inside OUT.</summary>
    public static string Clean(string path) =>
        string.Join('/', path.Replace('\\', '/').Split('/').Where(part => part is not ("" or "." or "..")));
}
