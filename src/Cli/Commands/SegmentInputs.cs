using System.CommandLine.Parsing;
using NativeSeg.Cli.Inputs;
using NativeSeg.Cli.Parsing;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Cli.Commands;

/// <summary>`segment`'s input arguments: image files, folders and "-" for one image on standard input.</summary>
internal static class SegmentInputs
{
    /// <summary>Parse-time check: every input exists, a named file is a supported image, "-" at most once.</summary>
    public static void Validate(SymbolResult result)
    {
        var values = result.Tokens.Select(t => t.Value).ToList();
        if (values.Count(v => v == StandardStreams.Name) > 1) result.AddError("- (standard input) can be given only once");
        foreach (string input in values.Where(v => v != StandardStreams.Name))
        {
            if (Directory.Exists(input)) continue;
            if (!File.Exists(input)) result.AddError($"{input}: no such file or folder");
            else if (!InputSource.IsSupported(input)) result.AddError($"{input}: not a supported image; segment reads {InputSource.Supported}");
        }
    }

    public static Image Read(SegmentInput input)
    {
        if (!input.IsStandardInput) return ImageFile.Read(input.Path);
        var bytes = new MemoryStream();
        using (var standardInput = Console.OpenStandardInput()) standardInput.CopyTo(bytes);
        return ImageFile.Decode(bytes.GetBuffer().AsSpan(0, (int)bytes.Length), "standard input");
    }
}
