using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

public class ReluGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string> Devices => new(GradientFixture.Devices);

    [Theory]
    [MemberData(nameof(Devices))]
    public void ReluBackwardFromTheOutputMatchesTorch(string device)
    {
        var on = GradientFixture.Resolve(device);
        using var file = GradientFixture.Open();
        using var y = GradientFixture.Load(file, "relu.y", on);
        using var gy = GradientFixture.Load(file, "relu.gy", on);
        using var expected = file.Load("relu.dx");
        // The gradient is copied or dropped, never computed, so it must be exact.
        GradientFixture.AssertClose(output, $"relu/{device}", expected, Activation.ReluBackward(gy, y), 0);
    }

    [Fact]
    public void ReluBackwardRejectsAGradientOfAnotherShape()
    {
        using var gy = Tensor.Zeros(new Shape(2, 3), DType.Float32, Device.Cpu);
        using var y = Tensor.Zeros(new Shape(3, 2), DType.Float32, Device.Cpu);
        var error = Assert.Throws<ArgumentException>(() => Activation.ReluBackward(gy, y));
        Assert.StartsWith("relu_backward: gradOutput [2, 3]", error.Message);
    }
}
