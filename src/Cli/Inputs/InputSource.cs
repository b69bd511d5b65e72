using NativeSeg.Cli.Parsing;
using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Cli.Inputs;

/// <summary>
/// The images a `segment` run (or the run a `merge` checks) covers, streamed in a fixed order: the arguments
/// (image files, folders walked recursively in path order, "-"), then the entries of a --list file; or the
/// images of an annotation file (--annotations with --images, in the file's order). Positions count every
/// input, so every shard of a run gives an image the id a single run gives it.
/// </summary>
internal sealed class InputSource
{
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    private readonly string[] _arguments;
    private readonly string? _list;
    private readonly (CocoDataset Dataset, string Folder)? _annotated;

    private InputSource(string[] arguments, string? list, (CocoDataset, string)? annotated)
    {
        _arguments = arguments;
        _list = list;
        _annotated = annotated;
    }

    public static string Supported => $"JPEG or PNG images ({string.Join(", ", Extensions)})";

    public static bool IsSupported(string file) => Extensions.Contains(Path.GetExtension(file).ToLowerInvariant());

    /// <summary>
    /// The source the options name, or null after saying on <paramref name="error"/> why there is none.
    /// <paramref name="imagesFolder"/> makes the annotation file the source; without it, the annotation file only gives ids.
    /// </summary>
    public static InputSource? Create(string[] arguments, string? list, string? annotations, string? imagesFolder, TextWriter error)
    {
        if (imagesFolder is null)
        {
            if (arguments.Length > 0 || list is not null) return new(arguments, list, null);
            error.WriteLine("error: nothing to segment: give inputs (images or folders), --list FILE, or --annotations A.json with --images DIR");
            return null;
        }
        if (annotations is null || arguments.Length > 0 || list is not null)
        {
            error.WriteLine(annotations is null
                ? "error: --images DIR segments the images of an annotation file: give --annotations A.json with it"
                : "error: --annotations with --images segments the annotation file's images; give no other inputs or --list with them");
            return null;
        }
        try
        {
            return new([], null, (CocoJson.ReadDataset(annotations), imagesFolder));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            error.WriteLine($"error: {e.Message}");
            return null;
        }
    }

    /// <summary>Whether the inputs carry annotation ids of their own (the source is an annotation file).</summary>
    public bool IsAnnotated => _annotated is not null;

    public bool ReadsStandardInput => _arguments.Contains(StandardStreams.Name);

    public string Description => _annotated is { } a ? $"the images of the annotation file in {a.Folder}"
        : string.Join(", ", _arguments.Concat(_list is null ? [] : [$"--list {_list}"]));

    /// <summary>Every input in order; files in folders that are not supported images are named on <paramref name="notes"/> when given.</summary>
    public IEnumerable<SegmentInput> Enumerate(TextWriter? notes)
    {
        long position = 0;
        if (_annotated is { } annotated)
        {
            foreach (var image in annotated.Dataset.Images)
                yield return new(Path.Combine(annotated.Folder, image.FileName), RelativePaths.Clean(image.FileName), ++position, image.Id,
                    $"image {image.Id} of the annotation file");
            yield break;
        }
        foreach (string argument in _arguments)
        {
            if (!Directory.Exists(argument))
            {
                yield return new(argument, argument == StandardStreams.Name ? "stdin" : Path.GetFileName(argument), ++position, null, argument);
                continue;
            }
            var skipped = new List<string>();
            int skippedCount = 0;
            foreach (string file in FolderWalk.Files(argument))
            {
                if (IsSupported(file)) yield return new(file, RelativePaths.Below(argument, file), ++position, null, argument);
                else if (skippedCount++ < 5) skipped.Add(Path.GetRelativePath(argument, file));
            }
            if (skippedCount > 0)
                notes?.WriteLine($"note: skipping {skippedCount} files in {argument} that are not {Supported}: "
                    + string.Join(", ", skipped) + (skippedCount > 5 ? ", ..." : ""));
        }
        if (_list is null) yield break;
        foreach (var (path, relative, line) in ListFile.Entries(_list))
            yield return new(path, relative, ++position, null, $"{_list}:{line}");
    }

    /// <summary>Why an input from a list or an annotation file cannot be read, or null when it can (folders and arguments are checked as they are found).</summary>
    public static string? Problem(SegmentInput input)
    {
        if (input.IsStandardInput) return null;
        if (Directory.Exists(input.Path)) return $"{input.Origin}: {input.Path} is a folder, not an image";
        if (!File.Exists(input.Path)) return $"{input.Origin}: {input.Path} does not exist";
        return IsSupported(input.Path) ? null : $"{input.Origin}: {input.Path} is not a supported image; segment reads {Supported}";
    }
}
