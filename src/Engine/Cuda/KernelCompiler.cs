using System.Security.Cryptography;
using System.Text;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Engine.Cuda;

/// <summary>A CUBIN and where it came from.</summary>
public sealed record CompiledKernel(KernelSource Source, string Architecture, byte[] Cubin, bool FromCache, string CachePath);

/// <summary>
/// Compiles kernel sources to CUBIN with NVRTC, caching the result on disk. The key covers everything
/// that changes the output: source and header text, options, architecture and the NVRTC version.
/// </summary>
public sealed class KernelCompiler(Nvrtc nvrtc, KernelCache cache)
{
    /// <summary>No --use_fast_math: every kernel is checked against its exact CPU twin.</summary>
    public static IReadOnlyList<string> DefaultOptions { get; } = ["--std=c++17"];

    public Nvrtc Nvrtc { get; } = nvrtc;

    public KernelCache Cache { get; } = cache;

    public CompiledKernel Compile(KernelSource source, string architecture, IReadOnlyList<string>? extraOptions = null)
    {
        IReadOnlyList<string> options = [$"--gpu-architecture={architecture}", .. DefaultOptions, .. extraOptions ?? []];
        string key = Key(source, options);
        var cached = Cache.TryRead(key);
        if (cached is not null) return new CompiledKernel(source, architecture, cached, FromCache: true, Cache.PathFor(key));
        byte[] cubin = Nvrtc.CompileToCubin(source, options);
        Cache.Write(key, cubin);
        return new CompiledKernel(source, architecture, cubin, FromCache: false, Cache.PathFor(key));
    }

    /// <summary>The architecture to compile for on a device of compute capability major.minor.</summary>
    public string ArchitectureFor(int major, int minor)
    {
        int native = major * 10 + minor;
        // A CUBIN runs on later minor versions of its major architecture, so the best one NVRTC knows will do.
        int best = Nvrtc.SupportedArchitectures.Where(a => a / 10 == major && a <= native).DefaultIfEmpty(-1).Max();
        if (best < 0)
        {
            throw new CudaUnavailableException(
                $"NVRTC {Nvrtc.Version} ({Nvrtc.Library.Path}) cannot target sm_{native}; it supports " +
                string.Join(" ", Nvrtc.SupportedArchitectures.Select(a => "sm_" + a)) + "; install a newer NVRTC");
        }
        return $"sm_{best}";
    }

    private string Key(KernelSource source, IReadOnlyList<string> options)
    {
        var text = new StringBuilder(source.Hash).Append('\n').Append(Nvrtc.Version);
        foreach (string option in options) text.Append('\n').Append(option);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
