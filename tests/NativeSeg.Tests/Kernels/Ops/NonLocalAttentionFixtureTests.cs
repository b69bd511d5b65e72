using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models;
using NonLocal = NativeSeg.Kernels.NonLocalAttention.NonLocalAttention;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Tests.Kernels.Ops;

/// <summary>
/// The non-local block's CPU twin against torch 1.13 at BCNet's full size (256 channels, 14×14), from
/// tests/reference/make_attention_fixtures.py: inputs are hashed tensors recomputed here, outputs are
/// compared on the fixture's strided sample of each flattened result.
/// </summary>
public class NonLocalAttentionFixtureTests
{
    private const int Channels = 256, Side = 14, Positions = Side * Side;

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 7)]
    [InlineData(7, 37)]
    [InlineData(100, 509)]
    public void CoreMatchesTorchSoftmaxQKOver16TimesV(int rois, int stride)
    {
        using var q = Hashed($"core_r{rois}.q", 3.0, rois, Channels, Positions);
        using var k = Hashed($"core_r{rois}.k", 3.0, rois, Channels, Positions);
        using var v = Hashed($"core_r{rois}.v", 1.0, rois, Channels, Positions);
        // The fixture divides by 16 literally; BCNet's 1/sqrt(C) must be exactly that at C = 256.
        Assert.Equal(1f / 16, NonLocal.BcnetScale(Channels));
        using var y = NonLocal.Attend(q, k, v, 1f / 16);
        Assert.Equal(new Shape(rois, Channels, Positions), y.Shape);
        AssertSampleMatches($"core_r{rois}.y", y, stride);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 7)]
    [InlineData(7, 37)]
    [InlineData(100, 509)]
    public void BlockMatchesBcnetNonLocalWithBatchNormEps1em4(int rois, int stride)
    {
        double bound = Math.Sqrt(3.0 / Channels);
        using var wq = Hashed("block.query", bound, Channels, Channels, 1, 1);
        using var wk = Hashed("block.key", bound, Channels, Channels, 1, 1);
        using var wv = Hashed("block.value", bound, Channels, Channels, 1, 1);
        using var wo = Hashed("block.output", bound, Channels, Channels, 1, 1);
        using var gamma = Hashed("block.bn.weight", 0.5, Channels);
        using var beta = Hashed("block.bn.bias", 0.5, Channels);
        using var mean = Hashed("block.bn.running_mean", 0.2, Channels);
        using var variance = Hashed("block.bn.running_var", 0.5, Channels);
        TensorPrimitives.Add(gamma.AsSpan<float>(), 1f, gamma.AsSpan<float>());
        TensorPrimitives.Add(variance.AsSpan<float>(), 1f, variance.AsSpan<float>());
        using var x = Hashed($"block_r{rois}.x", 2.0, rois, Channels, Side, Side);
        TensorPrimitives.Max(x.AsSpan<float>(), 0f, x.AsSpan<float>());

        var (folded, shift) = NonLocal.FoldBatchNorm(wo, gamma, beta, mean, variance);
        using (folded)
        using (shift)
        {
            using var y = NonLocal.Forward(x, wq, wk, wv, folded, shift, NonLocal.BcnetScale(Channels));
            Assert.Equal(x.Shape, y.Shape);
            AssertSampleMatches($"block_r{rois}.y", y, stride);
        }
    }

    private static Tensor Hashed(string name, double bound, params int[] shape) =>
        Tensor.FromArray(HashedWeights.Uniform(name, new Shape(shape).Numel, bound), shape);

    private static void AssertSampleMatches(string name, Tensor y, int stride)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("attention_nonlocal.safetensors"));
        using var expected = file.Load(name);
        var all = y.AsSpan<float>();
        var sample = new float[(all.Length + stride - 1) / stride];
        for (int i = 0; i < sample.Length; i++) sample[i] = all[i * stride];
        Assert.Equal(expected.Numel, sample.Length);
        using var actual = Tensor.FromArray(sample, sample.Length);
        var result = KernelCheckRunner.Compare(name, [expected], [actual], 1e-4);
        Assert.True(result.Passed, $"{name}: {result.Failure ?? "relative error"} {result.RelativeError:G3} (tolerance 1e-4)");
    }
}
