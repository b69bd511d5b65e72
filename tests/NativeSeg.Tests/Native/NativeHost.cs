using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace NativeSeg.Tests.Native;

/// <summary>
/// The published libnativeseg (build/publish-native.sh) that the native-host tests link C programs against:
/// NATIVESEG_NATIVE_DIR names it (build/test.sh publishes and sets it). Programs are compiled once per run
/// with AddressSanitizer and UBSan, so a host's invalid read of a returned mask or a double free inside the
/// library (its native memory comes from malloc) fails the run.
/// </summary>
internal static class NativeHost
{
    public const string DirectoryVariable = "NATIVESEG_NATIVE_DIR";

    private static readonly Lazy<string> Programs = new(() => CompileAll());

    public static bool IsConfigured => Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 };

    public static string Directory => IsConfigured
        ? Path.GetFullPath(Environment.GetEnvironmentVariable(DirectoryVariable)!)
        : throw new InvalidOperationException($"{DirectoryVariable} is not set: run build/publish-native.sh OUT and set it to OUT (build/test.sh does both)");

    public static string DefaultModel => Path.Combine(Directory, "weights", "default.safetensors");

    /// <summary>The compiled program, from examples/c (the shipped example) or tests/Native.</summary>
    public static string Program(string name) => Path.Combine(Programs.Value, name);

    /// <summary>Runs a compiled program (ASan's leak check off: the .NET runtime is never unloaded, so its heap is always "leaked" at exit).</summary>
    public static (int Code, string Output, string Error) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(Program(program), arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0";
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    private static string CompileAll([CallerFilePath] string source = "")
    {
        string root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", ".."));
        string output = Path.Combine(Path.GetTempPath(), "nativeseg-native-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(output);
        var sources = new[] { Path.Combine(root, "examples", "c", "segment_image.c") }
            .Concat(System.IO.Directory.GetFiles(Path.Combine(root, "tests", "Native"), "*.c"));
        foreach (string file in sources)
        {
            string binary = Path.Combine(output, Path.GetFileNameWithoutExtension(file));
            string[] arguments = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer",
                "-Wall", "-Wextra", "-Werror", "-std=gnu11", "-I", Directory, "-o", binary, file,
                "-L", Directory, "-lnativeseg", "-Wl,-rpath," + Directory, "-lpthread", "-lm"];
            var start = new ProcessStartInfo("gcc", arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
            using var gcc = System.Diagnostics.Process.Start(start)!;
            string errors = gcc.StandardError.ReadToEnd() + gcc.StandardOutput.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc {Path.GetFileName(file)} failed:\n{errors}");
        }
        return output;
    }
}

/// <summary>
/// A test of the published native library. Without NATIVESEG_NATIVE_DIR it is skipped, except under CI=true,
/// where it runs and fails: CI must build and test the native library.
/// </summary>
public sealed class NativeHostFactAttribute : FactAttribute
{
    public NativeHostFactAttribute()
    {
        if (!NativeHost.IsConfigured && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Skip = $"{NativeHost.DirectoryVariable} is not set (build/test.sh publishes the native library and sets it; under CI=true this fails instead)";
    }
}
