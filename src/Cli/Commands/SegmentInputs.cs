using System.CommandLine.Parsing;
using NativeSeg.Cli.Parsing;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `segment`'s inputs: image files, folders (searched recursively, in ordinal path order so ids and output
/// names do not depend on the file system) and "-" for one image on standard input.
/// </summary>
internal static class SegmentInputs
{
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    private static readonly EnumerationOptions Recursive = new() { RecurseSubdirectories = true, IgnoreInaccessible = false };

    /// <summary>Parse-time check: every input exists, a named file is a supported image, "-" at most once.</summary>
    public static void Validate(ArgumentResult result)
    {
        var values = result.Tokens.Select(t => t.Value).ToList();
        if (values.Count(v => v == StandardStreams.Name) > 1) result.AddError("- (standard input) can be given only once");
        foreach (string input in values.Where(v => v != StandardStreams.Name))
        {
            if (Directory.Exists(input)) continue;
            if (!File.Exists(input)) result.AddError($"{input}: no such file or folder");
            else if (!IsSupported(input)) result.AddError($"{input}: not a supported image; segment reads {Supported}");
        }
    }

    /// <summary>The files to segment, in order; files in folders that are not supported images are named on <paramref name="error"/>.</summary>
    public static List<string> Expand(IEnumerable<string> inputs, TextWriter error)
    {
        var files = new List<string>();
        foreach (string input in inputs)
        {
            if (!Directory.Exists(input))
            {
                files.Add(input);
                continue;
            }
            var found = Directory.EnumerateFiles(input, "*", Recursive).Order(StringComparer.Ordinal).ToList();
            var skipped = found.Where(f => !IsSupported(f)).ToList();
            files.AddRange(found.Where(IsSupported));
            if (skipped.Count > 0)
                error.WriteLine($"note: skipping {skipped.Count} files in {input} that are not {Supported}: "
                    + string.Join(", ", skipped.Take(5).Select(f => Path.GetRelativePath(input, f))) + (skipped.Count > 5 ? ", ..." : ""));
        }
        return files;
    }

    /// <summary>How results and resumed runs identify an input: its full path, or "-".</summary>
    public static string Key(string input) => input == StandardStreams.Name ? input : Path.GetFullPath(input);

    /// <summary>The name of the input's overlay and its results' file_name.</summary>
    public static string FileName(string input) => input == StandardStreams.Name ? "stdin" : Path.GetFileName(input);

    public static Image Read(string input)
    {
        if (input != StandardStreams.Name) return ImageFile.Read(input);
        var bytes = new MemoryStream();
        using (var standardInput = Console.OpenStandardInput()) standardInput.CopyTo(bytes);
        return ImageFile.Decode(bytes.GetBuffer().AsSpan(0, (int)bytes.Length), "standard input");
    }

    private static string Supported => $"JPEG or PNG images ({string.Join(", ", Extensions)})";

    private static bool IsSupported(string file) => Extensions.Contains(Path.GetExtension(file).ToLowerInvariant());
}
