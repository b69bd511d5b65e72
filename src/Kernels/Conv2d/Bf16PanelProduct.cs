namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// Weights packed by <see cref="Bf16ConvWeights"/> (bf16 pairs, blocks of 8 filters), multiplied by <see cref="Bf16PanelKernel"/>
/// with each gathered panel rounded to bf16 pairs once, for all its filter blocks.
/// </summary>
internal readonly unsafe struct Bf16PanelProduct(uint* packed, int k) : IPanelProduct
{
    private int Pairs => Bf16PanelKernel.Pairs(k);

    public long OperandBytes => (long)Pairs * PanelKernel.Nr * sizeof(uint);

    public void Load(float* panel, byte* operand) => Bf16PanelKernel.PackPairs(panel, PanelKernel.Nr, k, PanelKernel.Nr, (uint*)operand);

    public void Multiply(long block, float* panel, byte* operand, float* c, long ldc, float* bias, float* residual, bool relu) =>
        Bf16PanelKernel.Run(Pairs, packed + block * PanelKernel.Mr * Pairs, (uint*)operand, c, ldc, bias, residual, relu);
}
