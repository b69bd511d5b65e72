using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Normalization;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>Training-mode BatchNorm against torch 1.13 (tests/reference/make_batch_norm_fixtures.py), on the CPU twin and the emulated device.</summary>
public class BatchNormGradientTests(ITestOutputHelper output)
{
    private const float Momentum = 0.1f, Eps = 1e-5f;

    public static TheoryData<string, string> Cases =>
        GradientFixture.OnEveryDevice("odd_spatial", "large_mean", "rank2", "one_image", "two_values");

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardRunningStatisticsAndBackwardMatchTorch(string name, string device)
    {
        var on = GradientFixture.Resolve(device);
        string prefix = $"kernel.{name}.";
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("batch_norm.safetensors"));
        Tensor Load(string key) => GradientFixture.Load(file, prefix + key, on);
        using var x = Load("x");
        using var gamma = Load("gamma");
        using var beta = Load("beta");
        using var runningMean = Load("running_mean");
        using var runningVar = Load("running_var");
        using var gy = Load("gy");
        var (y, stats) = BatchNorm.TrainingForward(x, gamma, beta, runningMean, runningVar, Momentum, Eps);
        using (stats)
        {
            Expect(file, prefix, "y", y, device);
            Expect(file, prefix, "running_mean_after", runningMean.Share(), device);
            Expect(file, prefix, "running_var_after", runningVar.Share(), device);
            var (dx, dgamma, dbeta) = BatchNorm.Backward(gy, x, gamma, stats);
            Expect(file, prefix, "dx", dx, device);
            Expect(file, prefix, "dgamma", dgamma, device);
            Expect(file, prefix, "dbeta", dbeta, device);
        }
    }

    [Fact]
    public void OneValuePerChannelIsRefusedAsTorchDoes()
    {
        using var x = Tensor.Zeros(new Shape(1, 3, 1, 1), DType.Float32, Device.Cpu);
        using var c = Tensor.Zeros(new Shape(3), DType.Float32, Device.Cpu);
        var error = Assert.Throws<ArgumentException>(() => BatchNorm.TrainingForward(x, c, c, c, c, Momentum, Eps));
        Assert.Contains("more than one value per channel", error.Message);
    }

    [Fact]
    public void AnEmptyBatchKeepsTheRunningStatisticsAndGivesZeroParameterGradients()
    {
        using var x = Tensor.Zeros(new Shape(0, 3, 4, 4), DType.Float32, Device.Cpu);
        using var gamma = Tensor.FromArray(new float[] { 1, 2, 3 }, 3);
        using var mean = Tensor.FromArray(new float[] { 0.5f, -1, 2 }, 3);
        using var var = Tensor.FromArray(new float[] { 1, 4, 9 }, 3);
        var (y, stats) = BatchNorm.TrainingForward(x, gamma, gamma, mean, var, Momentum, Eps);
        var (dx, dgamma, dbeta) = BatchNorm.Backward(x, x, gamma, stats);
        using (y)
        using (stats)
        using (dx)
        using (dgamma)
        using (dbeta)
        {
            Assert.Equal(x.Shape, y.Shape);
            Assert.Equal([0.5f, -1, 2], mean.ToArray<float>());
            Assert.Equal([1f, 4, 9], var.ToArray<float>());
            Assert.Equal(new float[3], dgamma.ToArray<float>());
            Assert.Equal(new float[3], dbeta.ToArray<float>());
        }
    }

    private void Expect(SafetensorsFile file, string prefix, string key, Tensor actual, string device)
    {
        using var expected = file.Load(prefix + key);
        GradientFixture.AssertClose(output, $"batch_norm/{prefix}{key}/{device}", expected, actual, 1e-4);
    }
}
