using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// The bf16 GEMM micro-kernel of the CPU (Bf16PanelKernel.c, built into <see cref="LibraryName"/> beside the assemblies):
/// the 8 × 48 block of <see cref="PanelKernel"/>, with bf16 operands multiplied in pairs by VDPBF16PS into float sums,
/// and the rounding of float operands to bf16 (nearest even, denormals to zero) in the pair-interleaved layout it reads.
/// Native because .NET 10 has no AVX512_BF16 intrinsics. Used only where <see cref="Unavailable"/> is null.
/// </summary>
public static unsafe class Bf16PanelKernel
{
    public const string LibraryName = "libnativeseg_bf16.so";

    private static readonly Lazy<Api?> Loaded = new(Load);

    private static readonly Lazy<string?> Missing = new(FindMissing);

    /// <summary>Why this machine cannot run the kernel (no AVX512_BF16, or no library), or null when it can.</summary>
    public static string? Unavailable => Missing.Value;

    /// <summary>Whether the CPU has AVX512_BF16 (CPUID leaf 7, sub-leaf 1, EAX bit 5) and the OS keeps AVX-512 state.</summary>
    private static bool CpuHasBf16 => Avx512F.IsSupported && Avx512BW.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    /// <summary>
    /// dst[p·n + j] = bf16(src[2p·ld + j]) | bf16(src[(2p + 1)·ld + j]) &lt;&lt; 16 for p &lt; ⌈k/2⌉, j &lt; n: a k × n float matrix
    /// (rows <paramref name="ld"/> floats apart) as pair rows of n lanes, zero past an odd k.
    /// </summary>
    internal static void PackPairs(float* src, long ld, int k, int n, uint* dst) => Api.Get.PackPairs(src, ld, k, n, dst);

    /// <summary>
    /// c[8 × 48] (row stride <paramref name="ldc"/>) = aᵀ·b + bias, then ReLU, for pair-interleaved a [pairs][8] and
    /// b [pairs][48]; <paramref name="bias"/> may be null.
    /// </summary>
    internal static void Run(int pairs, uint* a, uint* b, float* c, long ldc, float* bias, float* residual, bool relu) =>
        Api.Get.Panel(pairs, a, b, c, ldc, bias, residual, relu ? 1 : 0);

    /// <summary>Pair rows of a k-row operand.</summary>
    internal static int Pairs(int k) => (k + 1) / 2;

    private static string? FindMissing()
    {
        if (!CpuHasBf16) return "this CPU has no AVX512_BF16 (VDPBF16PS)";
        return Loaded.Value is null
            ? $"{LibraryName} was not found in {AppContext.BaseDirectory} (it is built with gcc by NativeSeg.Kernels.csproj)"
            : null;
    }

    private static Api? Load()
    {
        if (!NativeLibrary.TryLoad(Path.Combine(AppContext.BaseDirectory, LibraryName), out nint handle)) return null;
        return new Api
        {
            PackPairs = (delegate* unmanaged[Cdecl]<float*, long, int, int, uint*, void>)NativeLibrary.GetExport(handle, "nativeseg_bf16_pack_pairs"),
            Panel = (delegate* unmanaged[Cdecl]<int, uint*, uint*, float*, long, float*, float*, int, void>)NativeLibrary.GetExport(handle, "nativeseg_bf16_panel"),
        };
    }

    private sealed class Api
    {
        public static Api Get => Unavailable is { } why ? throw new NotSupportedException($"the bf16 kernel cannot run: {why}") : Loaded.Value!;

        public required delegate* unmanaged[Cdecl]<float*, long, int, int, uint*, void> PackPairs { get; init; }

        public required delegate* unmanaged[Cdecl]<int, uint*, uint*, float*, long, float*, float*, int, void> Panel { get; init; }
    }
}
