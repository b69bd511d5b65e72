namespace NativeSeg.Cli.Inputs;

/// <summary>
/// The files below a folder, recursively, in ordinal order of their full paths, one folder's listing at a time:
/// a tree of millions of images is walked without holding more than the names of the folders being walked.
/// Sorting each folder's entries with a folder's name taken as "name/" gives the same order as sorting every
/// full path, since a path's remainder after a shared folder is the entry's name or "name/..." below it.
/// </summary>
internal static class FolderWalk
{
    private static readonly EnumerationOptions OneLevel = new() { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0 };

    public static IEnumerable<string> Files(string folder)
    {
        var entries = new DirectoryInfo(folder).EnumerateFileSystemInfos("*", OneLevel)
            .Select(e => (Entry: e, SortKey: e is DirectoryInfo ? e.Name + "/" : e.Name))
            .OrderBy(e => e.SortKey, StringComparer.Ordinal)
            .ToList();
        foreach (var (entry, _) in entries)
        {
            string path = Path.Combine(folder, entry.Name);
            if (entry is DirectoryInfo)
            {
                foreach (string file in Files(path)) yield return file;
            }
            else yield return path;
        }
    }
}
