using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NonLocal = NativeSeg.Kernels.NonLocalAttention.NonLocalAttention;

namespace NativeSeg.Tests.Kernels.Ops;

/// <summary>Hand-checked non-local cases and the argument errors.</summary>
public class NonLocalAttentionTests
{
    [Fact]
    public void CoreWeighsValuesBySoftmaxOfScaledDotProducts()
    {
        // One RoI, 1 channel, 2 positions: q = [1, 2], k = [0, ln 3]; scores q_i·k_j·scale with scale 1.
        using var q = Tensor.FromArray([1f, 2f], 1, 1, 2);
        using var k = Tensor.FromArray([0f, MathF.Log(3)], 1, 1, 2);
        using var v = Tensor.FromArray([10f, 20f, 1f, -1f], 1, 2, 2);
        using var y = NonLocal.Attend(q, k, v, 1f);
        // Query 0: weights (1, 3)/4; query 1: (1, 9)/10.
        float[] expected = [10 * 0.25f + 20 * 0.75f, 10 * 0.1f + 20 * 0.9f, 0.25f - 0.75f, 0.1f - 0.9f];
        Assert.Equal(expected, y.ToArray<float>(), (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void FoldedBatchNormScalesProjectionRowsAndShifts()
    {
        using var output = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2, 1, 1);
        using var gamma = Tensor.FromArray([2f, 1f], 2);
        using var beta = Tensor.FromArray([0.5f, -1f], 2);
        using var mean = Tensor.FromArray([1f, 0f], 2);
        using var variance = Tensor.FromArray([4f - 1e-4f, 1f - 1e-4f], 2);
        var (weight, shift) = NonLocal.FoldBatchNorm(output, gamma, beta, mean, variance);
        using (weight)
        using (shift)
        {
            // Row scales γ/√(var + 1e-4) = 2/2 and 1/1.
            Assert.Equal(new Shape(2, 2), weight.Shape);
            Assert.Equal([1f, 2f, 3f, 4f], weight.ToArray<float>(), (a, b) => Math.Abs(a - b) < 1e-6f);
            Assert.Equal([0.5f - 1f, -1f], shift.ToArray<float>(), (a, b) => Math.Abs(a - b) < 1e-6f);
        }
    }

    [Fact]
    public void BlockAddsFoldedProjectionOfAttentionToInput()
    {
        // A single position attends only to itself, so the block is x + Wo·Wv·x + shift.
        using var x = Tensor.FromArray([1f, -2f], 1, 2, 1, 1);
        using var identity = Tensor.FromArray([1f, 0f, 0f, 1f], 2, 2);
        using var wv = Tensor.FromArray([0f, 1f, 1f, 0f], 2, 2);
        using var wo = Tensor.FromArray([2f, 0f, 0f, 3f], 2, 2);
        using var shift = Tensor.FromArray([0.5f, 0f], 2);
        using var y = NonLocal.Forward(x, identity, identity, wv, wo, shift, 1f);
        Assert.Equal([1f + 2 * -2f + 0.5f, -2f + 3 * 1f], y.ToArray<float>());
    }

    [Fact]
    public void MismatchedShapesNameTheOpAndShapes()
    {
        using var q = Tensor.Zeros(new Shape(2, 8, 196), DType.Float32, Device.Cpu);
        using var k = Tensor.Zeros(new Shape(2, 8, 49), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => NonLocal.Attend(q, k, q, 0.5f));
        Assert.Contains("nonlocal_attention", e.Message);
        Assert.Contains("[2, 8, 49]", e.Message);

        using var x = Tensor.Zeros(new Shape(1, 8, 14, 14), DType.Float32, Device.Cpu);
        using var w = Tensor.Zeros(new Shape(8, 8), DType.Float32, Device.Cpu);
        using var wrong = Tensor.Zeros(new Shape(8, 4, 1, 1), DType.Float32, Device.Cpu);
        using var shift = Tensor.Zeros(new Shape(8), DType.Float32, Device.Cpu);
        var block = Assert.Throws<ArgumentException>(() => NonLocal.Forward(x, w, wrong, w, w, shift, 0.5f));
        Assert.Contains("nonlocal_block", block.Message);
        Assert.Contains("key weight [8, 4, 1, 1]", block.Message);
    }
}
