using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NativeSeg.Cli.Parsing;

/// <summary>
/// Checks on option values that run while the command line is parsed, so a wrong value is a usage error naming
/// the option before anything loads, and no value reaches code that would fail on it with a .NET message.
/// </summary>
internal static class OptionRules
{
    public static Option<T> Must<T>(this Option<T> option, Func<T, bool> valid, string requirement)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return; // A value of the wrong type: the parser reports it (CommandLineErrors words it).
            }
            if (!valid(value)) result.AddError($"{option.Name} must be {requirement}, got {Shown(result, value)}");
        });
        return option;
    }

    public static Option<int> AtLeast(this Option<int> option, int min) => option.Must(v => v >= min, $"at least {min}");

    public static Option<int?> AtLeast(this Option<int?> option, int min) => option.Must(v => v is null || v >= min, $"at least {min}");

    /// <summary>A score threshold: a finite number in [0, 1] (NaN would compare false with every score).</summary>
    public static Option<float?> Fraction(this Option<float?> option) => option.Must(v => v is null || v is >= 0 and <= 1, "a number from 0 to 1");

    public static Option<float> Fraction(this Option<float> option) => option.Must(v => v is >= 0 and <= 1, "a number from 0 to 1");

    // Generic over string and string? (one runtime type): an option left out has nothing to check.
    public static Option<T> ExistingFile<T>(this Option<T> option) => option.Must(v => v is not string s || File.Exists(s), "an existing file");

    /// <summary>A model file; weights/default.safetensors names the default model from any folder (<see cref="DefaultModel.Resolve"/>).</summary>
    public static Option<T> ModelFile<T>(this Option<T> option) =>
        option.Must(v => v is not string s || DefaultModel.Resolve(s) is not null, "an existing .safetensors model file");

    public static Option<T> ExistingFolder<T>(this Option<T> option) => option.Must(v => v is not string s || Directory.Exists(s), "an existing folder");

    /// <summary>A folder to create or write into: not a file already.</summary>
    public static Option<T> OutputFolder<T>(this Option<T> option) =>
        option.Must(v => v is not string s || (!File.Exists(s) && !AncestorIsFile(s)), "a folder, not an existing file");

    /// <summary>A file to write: not a folder, and in a folder that exists or can be created.</summary>
    public static Option<T> OutputFile<T>(this Option<T> option, bool allowStdout = false) =>
        option.Must(v => v is not string s || (allowStdout && s == StandardStreams.Name) || (!Directory.Exists(s) && !AncestorIsFile(s)),
            allowStdout ? "a file path (or - for standard output), not a folder" : "a file path, not a folder");

    public static Option<string> Device(this Option<string> option) =>
        option.Must(IsDevice, "auto, cpu, cuda or cuda:N");

    private static bool IsDevice(string name)
    {
        string spec = name.Trim().ToLowerInvariant();
        return spec is "auto" or "cpu" or "cuda"
            || (spec.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(spec.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out _));
    }

    // Writing "a/b/c.json" fails deep inside the run when "a/b" is a file; it is a wrong command line.
    private static bool AncestorIsFile(string path)
    {
        for (string? dir = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            if (File.Exists(dir)) return true;
        return false;
    }

    private static string Shown<T>(OptionResult result, T value) =>
        result.Tokens.Count > 0 ? string.Join(" ", result.Tokens.Select(t => t.Value)) : $"{value}";
}
