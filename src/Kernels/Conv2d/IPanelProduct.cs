namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// How the implicit GEMM (<see cref="Conv2dImplicitGemm"/>) multiplies its packed weights with each panel of 48 columns it
/// gathers in float: <see cref="FloatPanelProduct"/> as they are, <see cref="Bf16PanelProduct"/> rounded to bf16 first.
/// </summary>
internal unsafe interface IPanelProduct
{
    /// <summary>Bytes a worker needs beside its float panel for the panel in this product's operand format.</summary>
    long OperandBytes { get; }

    /// <summary>Turns a gathered float panel [k][48] into the operand <see cref="Multiply"/> reads.</summary>
    void Load(float* panel, byte* operand);

    /// <summary>
    /// c[8 × 48] (row stride ldc) = weight block <paramref name="block"/> × the loaded panel + bias + residual (laid out as
    /// c, null: none), then ReLU.
    /// </summary>
    void Multiply(long block, float* panel, byte* operand, float* c, long ldc, float* bias, float* residual, bool relu);
}

/// <summary>Float weights packed by <see cref="Conv2dImplicitGemm.PackWeights"/>, multiplied by <see cref="PanelKernel"/>.</summary>
internal readonly unsafe struct FloatPanelProduct(float* packed, int k) : IPanelProduct
{
    public long OperandBytes => 0;

    public void Load(float* panel, byte* operand)
    {
    }

    public void Multiply(long block, float* panel, byte* operand, float* c, long ldc, float* bias, float* residual, bool relu) =>
        PanelKernel.Run(k, packed + block * PanelKernel.Mr * k, panel, c, ldc, bias, residual, relu);
}
