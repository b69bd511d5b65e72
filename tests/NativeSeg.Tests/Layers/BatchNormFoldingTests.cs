using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;

namespace NativeSeg.Tests.Layers;

public class BatchNormFoldingTests
{
    /// <summary>torch: y = bn(conv(x)) in eval mode; ours: one conv with the folded weight and bias.</summary>
    [Theory]
    [InlineData("conv_bn_detectron2")]
    [InlineData("conv_bn_eps0_bias")]
    public void FoldedConvMatchesConvThenFrozenBatchNorm(string name)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture($"conv/{name}.safetensors"));
        double eps = double.Parse(file.Metadata["eps"], CultureInfo.InvariantCulture);
        using var x = file.Load("x");
        using var w = file.Load("conv.weight");
        using var b = file.Contains("conv.bias") ? file.Load("conv.bias") : null;
        using var gamma = file.Load("bn.weight");
        using var beta = file.Load("bn.bias");
        using var mean = file.Load("bn.running_mean");
        using var variance = file.Load("bn.running_var");
        using var expected = file.Load("y");
        var (fw, fb) = BatchNormFolding.Fold(w, b, gamma, beta, mean, variance, eps);
        using (fw)
        using (fb)
        {
            using var y = Conv2d.Forward(x, fw, fb, new Conv2dParams { Padding = 1 });
            ConvAssert.Close(expected, y);
        }
    }

    /// <summary>A CPU model's weights are folded where they lie, to the same bits as the copying fold.</summary>
    [Fact]
    public void FoldingInPlaceGivesTheCopysBits()
    {
        using var w = RandomTensors.Uniform(Device.Cpu, 81, -1, 1, 6, 4, 3, 3);
        using var b = RandomTensors.Uniform(Device.Cpu, 82, -1, 1, 6);
        using var gamma = RandomTensors.Uniform(Device.Cpu, 83, 0.5f, 2, 6);
        using var beta = RandomTensors.Uniform(Device.Cpu, 84, -1, 1, 6);
        using var mean = RandomTensors.Uniform(Device.Cpu, 85, -1, 1, 6);
        using var variance = RandomTensors.Uniform(Device.Cpu, 86, 0.1f, 3, 6);
        var (fw, fb) = BatchNormFolding.Fold(w, b, gamma, beta, mean, variance, 1e-5);
        using (fw)
        using (fb)
        {
            using var inPlace = w.To(Device.Cpu);
            using var bias = BatchNormFolding.FoldInPlace(inPlace, b, gamma, beta, mean, variance, 1e-5);
            Assert.Equal(fw.ToArray<float>(), inPlace.ToArray<float>());
            Assert.Equal(fb.ToArray<float>(), bias.ToArray<float>());
            Assert.NotEqual(w.ToArray<float>(), inPlace.ToArray<float>());
        }
    }

    [Fact]
    public void AFailedCheckLeavesTheWeightAsItWas()
    {
        using var w = RandomTensors.Uniform(Device.Cpu, 91, -1, 1, 4, 2, 3, 3);
        float[] before = w.ToArray<float>();
        using var good = Tensor.Zeros(new Shape(4), DType.Float32, Device.Cpu);
        using var bad = Tensor.Zeros(new Shape(3), DType.Float32, Device.Cpu);
        Assert.Throws<ArgumentException>(() => BatchNormFolding.FoldInPlace(w, null, good, good, good, bad, 1e-5));
        Assert.Equal(before, w.ToArray<float>());
    }

    [Fact]
    public void EpsilonMatters()
    {
        using var w = Tensor.FromArray(new float[] { 2f }, 1, 1, 1, 1);
        using var ones = Tensor.FromArray(new float[] { 1f }, 1);
        using var zero = Tensor.FromArray(new float[] { 0f }, 1);
        using var tiny = Tensor.FromArray(new float[] { 1e-5f }, 1);
        var (w0, b0) = BatchNormFolding.Fold(w, null, ones, zero, zero, tiny, 0);
        var (w1, b1) = BatchNormFolding.Fold(w, null, ones, zero, zero, tiny, 1e-5);
        Assert.Equal(2 / Math.Sqrt(1e-5), w0.ToArray<float>()[0], 1e-1);
        Assert.Equal(2 / Math.Sqrt(2e-5), w1.ToArray<float>()[0], 1e-1);
        foreach (var t in new[] { w0, b0, w1, b1 }) t.Dispose();
    }

    [Fact]
    public void MismatchedStatisticsNameTheShapes()
    {
        using var w = Tensor.Zeros(new Shape(4, 2, 3, 3), DType.Float32, Device.Cpu);
        using var good = Tensor.Zeros(new Shape(4), DType.Float32, Device.Cpu);
        using var bad = Tensor.Zeros(new Shape(3), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(w, null, good, good, bad, good, 1e-5));
        Assert.Contains("running_mean [3] must be [4]", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);
    }
}
