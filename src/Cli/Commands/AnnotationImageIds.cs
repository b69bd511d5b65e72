using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// Finds each input image's COCO image id in an annotation file, so `segment --json` results can be
/// evaluated against it. An annotation's file_name is usually relative to some dataset root the input
/// paths do not name ("images/000001.png" for ".../data/images/000001.png"), so it matches an input whose
/// trailing path components equal it; only when no file_name matches that way does the bare file name
/// decide, and then only if it is unique.
/// </summary>
internal static class AnnotationImageIds
{
    /// <summary>The id per file, or null after naming on <paramref name="error"/> every file that matches no image or several.</summary>
    public static Dictionary<string, long>? Match(IReadOnlyList<string> files, CocoDataset dataset, string annotationsPath, TextWriter error)
    {
        var images = dataset.Images.Select(i => (i.Id, Name: Normalize(i.FileName))).Where(i => i.Name.Length > 0).ToList();
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        bool ok = true;
        foreach (string file in files)
        {
            string path = Normalize(Path.GetFullPath(file)), bare = Path.GetFileName(path);
            var matches = images.Where(i => path == i.Name || path.EndsWith("/" + i.Name, StringComparison.Ordinal)).ToList();
            if (matches.Count == 0) matches = images.Where(i => Path.GetFileName(i.Name) == bare).ToList();
            if (matches.Count == 1) ids[file] = matches[0].Id;
            else
            {
                error.WriteLine(matches.Count == 0
                    ? $"error: {file} matches no image's file_name in {annotationsPath}"
                    : $"error: {file} matches {matches.Count} images in {annotationsPath} (ids {string.Join(", ", matches.Select(m => m.Id))})");
                ok = false;
            }
        }
        return ok ? ids : null;
    }

    // Annotation files written on Windows use backslashes; "./a.png" names the same file as "a.png".
    private static string Normalize(string path)
    {
        string slashed = path.Replace('\\', '/');
        return slashed.StartsWith("./", StringComparison.Ordinal) ? slashed[2..] : slashed;
    }
}
