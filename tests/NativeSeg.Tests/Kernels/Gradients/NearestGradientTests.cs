using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Resampling;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

public class NearestGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases =>
        GradientFixture.OnEveryDevice("scale2", "size_up", "size_down", "scale_mixed", "scale_2_05");

    private static Tensor Backward(string name, Tensor gy, int inH, int inW) => name switch
    {
        "scale2" => Resize.NearestScaledBackward(gy, inH, inW, 2.0, 2.0),
        "size_up" or "size_down" => Resize.NearestBackward(gy, inH, inW),
        "scale_mixed" => Resize.NearestScaledBackward(gy, inH, inW, 1.7, 0.6),
        "scale_2_05" => Resize.NearestScaledBackward(gy, inH, inW, 2.05, 2.05),
        _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NearestBackwardMatchesTorch(string name, string device)
    {
        var on = GradientFixture.Resolve(device);
        using var file = GradientFixture.Open();
        using var gy = GradientFixture.Load(file, $"nearest.{name}.gy", on);
        using var expected = file.Load($"nearest.{name}.dx");
        // Sums in torch's order: exact.
        GradientFixture.AssertClose(output, $"nearest/{name}/{device}", expected, Backward(name, gy, expected.Shape[2], expected.Shape[3]), 0);
    }

    [Fact]
    public void ScaledBackwardRejectsAGradientOfTheWrongSize()
    {
        using var gy = Tensor.Zeros(new Shape(1, 1, 9, 10), DType.Float32, Device.Cpu);
        var error = Assert.Throws<ArgumentException>(() => Resize.NearestScaledBackward(gy, 5, 5, 2.0, 2.0));
        Assert.StartsWith("resize_nearest_backward: gradOutput", error.Message);
    }
}
