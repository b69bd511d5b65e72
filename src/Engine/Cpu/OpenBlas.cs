using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Cpu;

/// <summary>
/// Row-major SGEMM through OpenBLAS (Debian libopenblas0-pthread). The library is loaded on first use
/// so that a machine without it still runs everything that does not multiply matrices.
/// </summary>
public static unsafe partial class OpenBlas
{
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    private static readonly Lazy<Api> Loaded = new(Load);

    public static string? LibraryPath => Loaded.Value.Path;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        Loaded.Value.Sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    internal static void SetThreads(int count)
    {
        if (Loaded.IsValueCreated) Loaded.Value.SetThreads(count);
    }

    private sealed class Api
    {
        public required string Path { get; init; }
        public required delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm { get; init; }
        public required delegate* unmanaged[Cdecl]<int, void> SetThreadsPtr { get; init; }

        public void SetThreads(int count) => SetThreadsPtr(count);
    }

    private static Api Load()
    {
        PreferAvx512Kernels();
        string[] candidates = ["libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "libopenblas.so"];
        foreach (string name in candidates)
        {
            if (!NativeLibrary.TryLoad(name, out nint handle)) continue;
            var api = new Api
            {
                Path = name,
                Sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
                    NativeLibrary.GetExport(handle, "cblas_sgemm"),
                SetThreadsPtr = (delegate* unmanaged[Cdecl]<int, void>)NativeLibrary.GetExport(handle, "openblas_set_num_threads"),
            };
            api.SetThreads(CpuThreads.Count);
            return api;
        }
        throw new DllNotFoundException(
            $"OpenBLAS not found (tried {string.Join(", ", candidates)}); install Debian's libopenblas0-pthread");
    }

    /// <summary>
    /// Debian's OpenBLAS 0.3.21 does not recognise AMD Zen 4/5 and falls back to its AVX2 (Haswell)
    /// kernels, which run SGEMM at about 60% of the speed of its AVX-512 (SkylakeX) ones on those CPUs.
    /// The dynamic-arch loader reads OPENBLAS_CORETYPE from the native environment when the library is
    /// loaded, so it is set there (Environment.SetEnvironmentVariable only changes .NET's copy), and
    /// only when the user has not chosen a core type.
    /// </summary>
    private static void PreferAvx512Kernels()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported || !System.Runtime.Intrinsics.X86.Avx512DQ.IsSupported) return;
        if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is not null) return;
        SetNativeEnvironment("OPENBLAS_CORETYPE", "SkylakeX", 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNativeEnvironment(string name, string value, int overwrite);
}
