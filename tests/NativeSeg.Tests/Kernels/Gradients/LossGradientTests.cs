using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Losses;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>The CPU losses and their gradients against torch 1.13 autograd (tests/reference/make_grad_roiloss_fixtures.py).</summary>
public class LossGradientTests(ITestOutputHelper output)
{
    public enum Loss { CrossEntropy, Bce, SmoothL1, L1 }

    [Theory]
    [InlineData("ce_mean", Loss.CrossEntropy, 0f, LossReduction.Mean, 1f)]
    [InlineData("ce_sum", Loss.CrossEntropy, 0f, LossReduction.Sum, 1f)]
    [InlineData("ce_large", Loss.CrossEntropy, 0f, LossReduction.Mean, 1f)]
    [InlineData("bce_mean", Loss.Bce, 0f, LossReduction.Mean, 1f)]
    [InlineData("bce_sum_soft", Loss.Bce, 0f, LossReduction.Sum, 1f)]
    [InlineData("bce_large", Loss.Bce, 0f, LossReduction.Mean, 1f)]
    [InlineData("smooth_l1_sum", Loss.SmoothL1, 1f / 9, LossReduction.Sum, 1f)]
    [InlineData("smooth_l1_mean", Loss.SmoothL1, 1f / 9, LossReduction.Mean, 1f)]
    [InlineData("smooth_l1_normalised", Loss.SmoothL1, 1f / 9, LossReduction.Sum, 1f / 64)]
    [InlineData("smooth_l1_beta0", Loss.SmoothL1, 0f, LossReduction.Sum, 1f)]
    [InlineData("l1_mean", Loss.L1, 0f, LossReduction.Mean, 1f)]
    [InlineData("l1_sum", Loss.L1, 0f, LossReduction.Sum, 1f)]
    public void LossAndGradientMatchTorch(string name, Loss loss, float beta, LossReduction reduction, float scale)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("grad_roiloss.safetensors"));
        using var input = file.Load(name + ".input");
        using var target = file.Load(name + ".target");
        using var expectedLoss = file.Load(name + ".loss");
        using var expectedGrad = file.Load(name + ".grad");
        using var upstream = file.Contains(name + ".upstream") ? file.Load(name + ".upstream") : null;
        using var actualLoss = Forward(loss, input, target, beta, reduction, scale);
        using var actualGrad = Backward(loss, input, target, beta, reduction, scale, upstream);
        Assert.Equal(new Shape(1), actualLoss.Shape);
        Assert.Equal(expectedGrad.Shape, actualGrad.Shape);
        double lossError = GradientAssert.Close(expectedLoss, actualLoss, name + ".loss");
        double gradError = GradientAssert.Close(expectedGrad, actualGrad, name + ".grad");
        output.WriteLine($"{name}: loss relative error {lossError:G3}, gradient relative error {gradError:G3}");
    }

    [Fact]
    public void EmptyMeanIsNaNAndEmptySumIsZero()
    {
        using var logits = Tensor.Empty(Device.Cpu, DType.Float32, 0, 5);
        using var labels = Tensor.Empty(Device.Cpu, DType.Int64, 0);
        using var mean = CrossEntropyLoss.Forward(logits, labels);
        using var sum = CrossEntropyLoss.Forward(logits, labels, LossReduction.Sum);
        using var grad = CrossEntropyLoss.Backward(logits, labels);
        Assert.True(float.IsNaN(mean.AsSpan<float>()[0]));
        Assert.Equal(0f, sum.AsSpan<float>()[0]);
        Assert.Equal(new Shape(0, 5), grad.Shape);
    }

    [Fact]
    public void RejectsATargetOutsideTheClasses()
    {
        using var logits = Tensor.FromArray(new float[6], 2, 3);
        using var labels = Tensor.FromArray(new long[] { 1, 3 }, 2);
        var e = Assert.Throws<ArgumentException>(() => CrossEntropyLoss.Forward(logits, labels));
        Assert.Contains("target 3 of row 1 is outside the 3 classes", e.Message);
    }

    [Fact]
    public void RejectsANegativeBeta()
    {
        using var x = Tensor.FromArray(new float[2], 2);
        var e = Assert.Throws<ArgumentException>(() => SmoothL1Loss.Forward(x, x, -1f));
        Assert.Contains("beta -1 must be finite and >= 0", e.Message);
    }

    private static Tensor Forward(Loss loss, Tensor input, Tensor target, float beta, LossReduction reduction, float scale) => loss switch
    {
        Loss.CrossEntropy => CrossEntropyLoss.Forward(input, target, reduction, scale),
        Loss.Bce => BinaryCrossEntropyLoss.Forward(input, target, reduction, scale),
        Loss.SmoothL1 => SmoothL1Loss.Forward(input, target, beta, reduction, scale),
        _ => L1Loss.Forward(input, target, reduction, scale),
    };

    private static Tensor Backward(Loss loss, Tensor input, Tensor target, float beta, LossReduction reduction, float scale, Tensor? upstream) => loss switch
    {
        Loss.CrossEntropy => CrossEntropyLoss.Backward(input, target, reduction, scale, upstream),
        Loss.Bce => BinaryCrossEntropyLoss.Backward(input, target, reduction, scale, upstream),
        Loss.SmoothL1 => SmoothL1Loss.Backward(input, target, beta, reduction, scale, upstream),
        _ => L1Loss.Backward(input, target, reduction, scale, upstream),
    };
}
