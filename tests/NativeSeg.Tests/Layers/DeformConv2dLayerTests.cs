using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Layers;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Tests.Layers;

/// <summary>
/// detectron2's modulated deformable unit: the offset conv's 27 channels are 18 interleaved (dy, dx) offsets then 9
/// mask logits. With a zero offset conv whose bias gives offsets (0, 0) and masks sigmoid(b), the unit must equal the
/// plain conv-BatchNorm-ReLU unit with its weight scaled by sigmoid(b), raw and compiled; an offset in the mask's
/// channels instead of the offsets' must change it. Training through it is refused.
/// </summary>
public class DeformConv2dLayerTests
{
    private const int C = 4, K = 5;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ZeroOffsetsAndAConstantMaskGiveTheScaledPlainConv(bool compiled)
    {
        const float maskLogit = 0.7f;
        float mask = 1f / (1f + MathF.Exp(-maskLogit));
        using var x = RandomTensors.Uniform(Device.Cpu, 1, -1, 1, 2, C, 6, 7);
        using var deformable = Unit(Weights(maskLogit, 1f), deformableUnit: true, compiled);
        using var plain = Unit(Weights(maskLogit, mask), deformableUnit: false, compiled);
        using var got = ((IConvUnit)deformable).Forward(x);
        using var want = ((IConvUnit)plain).Forward(x);
        Assert.Equal(want.Shape, got.Shape);
        var g = got.AsSpan<float>().ToArray();
        var w = want.AsSpan<float>().ToArray();
        for (int i = 0; i < g.Length; i++) Assert.True(Math.Abs(g[i] - w[i]) <= 1e-5f * (1 + Math.Abs(w[i])), $"element {i}: {g[i]} against {w[i]}");
    }

    [Fact]
    public void AnOffsetMovesTheSampling()
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 2, -1, 1, 1, C, 6, 7);
        var shifted = Weights(3f, 1f);
        // Tap 4 (the centre) reads one row down: its dy is channel 8.
        shifted["offset.bias"].AsSpan<float>()[8] = 1f;
        using var moved = Unit(shifted, deformableUnit: true, compiled: true);
        using var still = Unit(Weights(3f, 1f), deformableUnit: true, compiled: true);
        using var a = ((IConvUnit)moved).Forward(x);
        using var b = ((IConvUnit)still).Forward(x);
        Assert.NotEqual(a.AsSpan<float>().ToArray(), b.AsSpan<float>().ToArray());
    }

    /// <summary>
    /// The deformable conv has no backward: a tape that needs a gradient through it (its weight's, or the offset conv's,
    /// which reaches it through the offsets) is refused naming the layer, while a tape training nothing of it runs.
    /// </summary>
    [Theory]
    [InlineData("conv.weight", true)]
    [InlineData("offset.", true)]
    [InlineData("conv.norm.", false)]
    public void ATapeNeedingItsGradientIsRefused(string trained, bool refused)
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 8, -1, 1, 1, C, 6, 7);
        using var unit = Unit(Weights(0.7f, 1f), deformableUnit: true, compiled: false);
        using var tape = Tape.Record(unit.TrainableParameters().Where(p => p.Key.StartsWith(trained, StringComparison.Ordinal)));
        if (refused)
        {
            var error = Assert.Throws<NotSupportedException>(() => ((IConvUnit)unit).Forward(x));
            Assert.Contains("deformable conv conv.weight", error.Message);
        }
        else
        {
            using var y = ((IConvUnit)unit).Forward(x);
            Assert.Equal(new Shape(1, K, 6, 7), y.Shape);
        }
    }

    /// <summary>Conv weight (times <paramref name="weightScale"/>), BatchNorm, and an offset conv of zeros whose mask-logit bias is <paramref name="maskLogit"/>.</summary>
    private static Dictionary<string, Tensor> Weights(float maskLogit, float weightScale)
    {
        using var w = RandomTensors.Uniform(Device.Cpu, 3, -0.5f, 0.5f, K, C, 3, 3);
        var weight = Tensor.FromArray(w.AsSpan<float>().ToArray().Select(v => v * weightScale).ToArray(), K, C, 3, 3);
        var offsetBias = new float[27];
        for (int i = 18; i < 27; i++) offsetBias[i] = maskLogit;
        return new Dictionary<string, Tensor>
        {
            ["conv.weight"] = weight,
            ["conv.norm.weight"] = RandomTensors.Uniform(Device.Cpu, 4, 0.5f, 1.5f, K),
            ["conv.norm.bias"] = RandomTensors.Uniform(Device.Cpu, 5, -0.5f, 0.5f, K),
            ["conv.norm.running_mean"] = RandomTensors.Uniform(Device.Cpu, 6, -0.5f, 0.5f, K),
            ["conv.norm.running_var"] = RandomTensors.Uniform(Device.Cpu, 7, 0.5f, 1.5f, K),
            ["offset.weight"] = Tensor.Zeros(new Shape(27, C, 3, 3), DType.Float32, Device.Cpu),
            ["offset.bias"] = Tensor.FromArray(offsetBias, 27),
        };
    }

    private static NativeSeg.Layers.Modules.Module Unit(Dictionary<string, Tensor> weights, bool deformableUnit, bool compiled)
    {
        var spec = new ConvSpec(C, K, 3, 1, 1, Relu: true);
        var norm = new BatchNormSpec("conv.norm", 1e-5);
        var store = new ParameterStore(weights, Device.Cpu);
        NativeSeg.Layers.Modules.Module unit = deformableUnit
            ? new DeformConv2dLayer(store, "conv.weight", "offset", spec, norm, modulated: true)
            : new Conv2dLayer(store, "conv.weight", null, spec, norm);
        foreach (var t in weights.Values) t.Dispose();
        if (compiled) unit.CompileForInference();
        return unit;
    }
}
