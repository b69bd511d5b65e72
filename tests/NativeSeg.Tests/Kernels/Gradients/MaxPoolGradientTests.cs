using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Pooling;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

public class MaxPoolGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases =>
        GradientFixture.OnEveryDevice("stem_k3_s2_p1", "fpn_p6_k1_s2", "ties_k3_s1_p1", "constant_k2_s2", "neg_inf_k3_s2_p1");

    private static (int Kernel, int Stride, int Padding) Window(string name) => name switch
    {
        "stem_k3_s2_p1" or "neg_inf_k3_s2_p1" => (3, 2, 1),
        "fpn_p6_k1_s2" => (1, 2, 0),
        "ties_k3_s1_p1" => (3, 1, 1),
        "constant_k2_s2" => (2, 2, 0),
        _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward2dMatchesTorchIncludingTies(string name, string device)
    {
        var on = GradientFixture.Resolve(device);
        var (kernel, stride, padding) = Window(name);
        using var file = GradientFixture.Open();
        using var x = GradientFixture.Load(file, $"max_pool.{name}.x", on);
        using var gy = GradientFixture.Load(file, $"max_pool.{name}.gy", on);
        using var expected = file.Load($"max_pool.{name}.dx");
        // Sums of the same gradients in the same order as torch: exact.
        GradientFixture.AssertClose(output, $"max_pool/{name}/{device}", expected, MaxPool.Backward2d(gy, x, kernel, stride, padding), 0);
    }

    [Fact]
    public void Backward2dRejectsAGradientThatIsNotTheForwardOutput()
    {
        using var x = Tensor.Zeros(new Shape(1, 2, 8, 8), DType.Float32, Device.Cpu);
        using var gy = Tensor.Zeros(new Shape(1, 2, 8, 8), DType.Float32, Device.Cpu);
        var error = Assert.Throws<ArgumentException>(() => MaxPool.Backward2d(gy, x, 3, 2, 1));
        Assert.StartsWith("max_pool2d_backward: gradOutput", error.Message);
    }
}
