using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Cli.Inputs;

/// <summary>
/// Finds each input image's COCO image id in an annotation file, so `segment` results can be evaluated
/// against it. An annotation's file_name is usually relative to some dataset root the input paths do not name
/// ("images/000001.png" for ".../data/images/000001.png"), so it matches an input whose trailing path
/// components equal it; only when no file_name matches that way does the bare file name decide, and then only
/// if it is unique. The file names are indexed once, so each lookup costs the input path's depth, not the
/// number of images.
/// </summary>
internal sealed class AnnotationImageIds
{
    private readonly Dictionary<string, List<long>> _byName = new(StringComparer.Ordinal), _byBareName = new(StringComparer.Ordinal);
    private readonly string _annotationsPath;

    public AnnotationImageIds(CocoDataset dataset, string annotationsPath)
    {
        _annotationsPath = annotationsPath;
        foreach (var image in dataset.Images)
        {
            string name = Normalize(image.FileName);
            if (name.Length == 0) continue;
            Add(_byName, name, image.Id);
            Add(_byBareName, Path.GetFileName(name), image.Id);
        }
    }

    /// <summary>The file's image id, or null after naming on <paramref name="error"/> a file that matches no image or several.</summary>
    public long? Find(string file, TextWriter error)
    {
        string path = Normalize(Path.GetFullPath(file));
        var matches = new List<long>();
        for (int start = 0; start >= 0; start = path.IndexOf('/', start) is int slash and >= 0 ? slash + 1 : -1)
            if (_byName.TryGetValue(path[start..], out var ids)) matches.AddRange(ids);
        if (matches.Count == 0 && _byBareName.TryGetValue(Path.GetFileName(path), out var bare)) matches.AddRange(bare);
        if (matches.Count == 1) return matches[0];
        error.WriteLine(matches.Count == 0
            ? $"error: {file} matches no image's file_name in {_annotationsPath}"
            : $"error: {file} matches {matches.Count} images in {_annotationsPath} (ids {string.Join(", ", matches.Order())})");
        return null;
    }

    private static void Add(Dictionary<string, List<long>> index, string key, long id)
    {
        if (!index.TryGetValue(key, out var ids)) index[key] = ids = [];
        ids.Add(id);
    }

    // Annotation files written on Windows use backslashes; "./a.png" names the same file as "a.png".
    private static string Normalize(string path)
    {
        string slashed = path.Replace('\\', '/');
        return slashed.StartsWith("./", StringComparison.Ordinal) ? slashed[2..] : slashed;
    }
}
