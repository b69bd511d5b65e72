using System.Reflection;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Kernels;

/// <summary>
/// Every CUDA source embedded in this assembly, by its path under src/Kernels (e.g. "RoiAlign/RoiAlign.cu").
/// Headers (*.cuh) are attached to every source so NVRTC and the emulator resolve includes the same way.
/// </summary>
public static class KernelCatalog
{
    private const string Prefix = "kernels/";

    private static readonly Lazy<IReadOnlyDictionary<string, KernelSource>> Sources = new(LoadAll);

    public static IReadOnlyCollection<KernelSource> All => Sources.Value.Values.ToArray();

    public static KernelSource Get(string name) =>
        Sources.Value.TryGetValue(name, out var source)
            ? source
            : throw new KeyNotFoundException($"no embedded kernel source '{name}'; known: {string.Join(", ", Sources.Value.Keys)}");

    /// <summary>Names of the extern "C" __global__ entry points a source defines.</summary>
    public static IReadOnlyList<string> EntryPoints(KernelSource source) =>
        System.Text.RegularExpressions.Regex.Matches(source.Code, @"extern\s+""C""\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(")
            .Select(m => m.Groups[1].Value).ToArray();

    private static IReadOnlyDictionary<string, KernelSource> LoadAll()
    {
        var assembly = typeof(KernelCatalog).Assembly;
        var texts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(n => n[Prefix.Length..].Replace('\\', '/'), n => Read(assembly, n));
        var headers = texts.Where(t => t.Key.EndsWith(".cuh", StringComparison.Ordinal))
            .ToDictionary(t => Path.GetFileName(t.Key), t => t.Value);
        return texts.Where(t => t.Key.EndsWith(".cu", StringComparison.Ordinal))
            .ToDictionary(t => t.Key, t => new KernelSource(t.Key, t.Value, headers));
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
