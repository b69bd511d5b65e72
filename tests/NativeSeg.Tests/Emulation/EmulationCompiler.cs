using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// Builds a kernel source into a host shared library with g++ under cuda_emulation.h, adding one
/// launch shim per entry point. Libraries, and the compiler's output when it fails, are cached in the
/// temp directory by a hash of everything that goes into them, so each source compiles once per
/// machine until it changes.
/// </summary>
internal static class EmulationCompiler
{
    private const string Flags = "-std=c++20 -O1 -pthread -shared -fPIC -fvisibility=hidden -fno-gnu-unique";

    // Block-level cooperation visible in a source; without any, blocks need no barrier between them.
    private static readonly Regex Cooperation = new(@"__shared__|NS_DYNAMIC_SHARED|__syncthreads|__syncwarp|_sync\s*\(|__activemask");

    // Two cores: more compiles at once only slow each other down.
    private static readonly SemaphoreSlim Slots = new(2);

    public static string EmulationHeader { get; } = ReadResource("emulation/cuda_emulation.h");

    public static string CacheDirectory { get; } = Path.Combine(Path.GetTempPath(), "nativeseg-emulation");

    public static string ShimName(string entryPoint) => "ns_launch_" + entryPoint;

    /// <summary>Path of the compiled library for <paramref name="source"/>, compiling it if needed.</summary>
    public static string Build(KernelSource source)
    {
        string shim = Shim(source);
        string key = Hash(source.Hash, EmulationHeader, shim, Flags);
        string library = Path.Combine(CacheDirectory, key + ".so"), failure = Path.Combine(CacheDirectory, key + ".err");
        if (Cached(source, library, failure)) return library;
        Slots.Wait();
        try
        {
            if (Cached(source, library, failure)) return library;
            Compile(source, shim, library, failure);
            return library;
        }
        finally
        {
            Slots.Release();
        }
    }

    private static bool Cached(KernelSource source, string library, string failure)
    {
        if (File.Exists(failure)) throw CompileError(source, File.ReadAllText(failure));
        return File.Exists(library);
    }

    private static InvalidOperationException CompileError(KernelSource source, string output) =>
        new($"g++ could not compile {source.Name} for emulation:\n{output}");

    private static void Compile(KernelSource source, string shim, string library, string failure)
    {
        string work = Path.Combine(CacheDirectory, "build-" + Guid.NewGuid().ToString("N"));
        try
        {
            string includes = Path.Combine(work, "include"), sources = Path.Combine(work, "src");
            Directory.CreateDirectory(includes);
            foreach (var (name, code) in source.Headers) WriteFile(Path.Combine(includes, name), code);
            WriteFile(Path.Combine(sources, source.Name), source.Code);
            string header = Path.Combine(work, "cuda_emulation.h");
            WriteFile(header, EmulationHeader);
            string module = Path.Combine(work, "module.cpp");
            WriteFile(module, shim);
            // Written under unique names and renamed: other test processes may read the same paths.
            string partial = library + "." + Guid.NewGuid().ToString("N") + ".tmp";
            string arguments = $"{Flags} -include \"{header}\" -I \"{includes}\" -I \"{sources}\" -o \"{partial}\" \"{module}\"";
            var (exitCode, output) = RunCompiler(arguments);
            if (exitCode != 0)
            {
                // Only diagnostics are cached: a compiler killed for memory must be retried next run.
                if (!output.Contains(" error: ", StringComparison.Ordinal)) throw CompileError(source, $"exit code {exitCode}\n{output}");
                File.WriteAllText(partial, $"exit code {exitCode}\n{output}");
                File.Move(partial, failure, overwrite: true);
                throw CompileError(source, File.ReadAllText(failure));
            }
            File.Move(partial, library, overwrite: true);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The translation unit: the source itself, then one extern "C" shim per entry point.</summary>
    private static string Shim(KernelSource source)
    {
        string independent = Cooperation.IsMatch(source.Code) ? "false" : "true";
        var text = new StringBuilder();
        text.Append("#include \"").Append(source.Name).Append("\"\n\n");
        foreach (string entry in KernelCatalog.EntryPoints(source))
        {
            text.Append("extern \"C\" __attribute__((visibility(\"default\"))) int ").Append(ShimName(entry))
                .Append("(const unsigned* dims, unsigned shared, void** args, int count, char* error, int capacity)\n{\n")
                .Append("    return ns_emulation_launch<&").Append(entry).Append(", ").Append(independent).Append(">(\"").Append(entry)
                .Append("\", dims, shared, args, count, error, capacity);\n}\n");
        }
        return text.ToString();
    }

    private static (int ExitCode, string Output) RunCompiler(string arguments)
    {
        var start = new ProcessStartInfo("g++", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start g++");
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    private static void WriteFile(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static string Hash(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\0", parts))))[..32];

    internal static string ReadResource(string name)
    {
        var assembly = Assembly.GetExecutingAssembly();
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource '{name}' is not embedded in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
