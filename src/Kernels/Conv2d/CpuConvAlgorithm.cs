namespace NativeSeg.Kernels.Convolution;

/// <summary>The CPU algorithms of conv2d; tests and benchmarks force one, models leave the choice to <see cref="Auto"/>.</summary>
internal enum CpuConvAlgorithm
{
    /// <summary>Winograd when the weight's transform is prepared, else the implicit GEMM where AVX-512 exists, else im2col + OpenBLAS.</summary>
    Auto,
    ImplicitGemm,
    Columns,
    Winograd,

    /// <summary>The implicit GEMM with bf16 operands and float sums (<see cref="Bf16PanelKernel"/>), for weights packed by <see cref="Bf16ConvWeights"/>.</summary>
    Bf16ImplicitGemm,
}
