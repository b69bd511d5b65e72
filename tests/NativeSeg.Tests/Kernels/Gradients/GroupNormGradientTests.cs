using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.Normalization;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

public class GroupNormGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases =>
        GradientFixture.OnEveryDevice("affine", "relu", "no_affine_large_mean", "fcos_like", "rank3_group_per_channel");

    private static (int Groups, bool Relu) Arguments(string name) => name switch
    {
        "affine" => (3, false),
        "relu" => (4, true),
        "no_affine_large_mean" => (2, false),
        "fcos_like" => (8, true),
        "rank3_group_per_channel" => (5, false),
        _ => throw new ArgumentException($"unknown case {name}", nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesTorch(string name, string device)
    {
        var on = GradientFixture.Resolve(device);
        var (groups, relu) = Arguments(name);
        string prefix = $"group_norm.{name}.";
        using var file = GradientFixture.Open();
        using var x = GradientFixture.Load(file, prefix + "x", on);
        using var y = GradientFixture.Load(file, prefix + "y", on);
        using var gy = GradientFixture.Load(file, prefix + "gy", on);
        using var gamma = file.Contains(prefix + "gamma") ? GradientFixture.Load(file, prefix + "gamma", on) : null;
        // A fused ReLU is differentiated first, from the forward's output, as the autograd layer does.
        using var gradNorm = relu ? Activation.ReluBackward(gy, y) : null;
        var (dx, dgamma, dbeta) = GroupNorm.Backward(gradNorm ?? gy, x, groups, gamma, 1e-5f);
        using var expectedDx = file.Load(prefix + "dx");
        GradientFixture.AssertClose(output, $"group_norm/{name}/dx/{device}", expectedDx, dx, 1e-4);
        if (gamma is null)
        {
            Assert.Null(dgamma);
            Assert.Null(dbeta);
            return;
        }
        using var expectedDgamma = file.Load(prefix + "dgamma");
        using var expectedDbeta = file.Load(prefix + "dbeta");
        GradientFixture.AssertClose(output, $"group_norm/{name}/dgamma/{device}", expectedDgamma, dgamma!, 1e-4);
        GradientFixture.AssertClose(output, $"group_norm/{name}/dbeta/{device}", expectedDbeta, dbeta!, 1e-4);
    }

    [Fact]
    public void BackwardRejectsAGammaOfTheWrongLength()
    {
        using var x = Tensor.Zeros(new Shape(1, 4, 3, 3), DType.Float32, Device.Cpu);
        using var gamma = Tensor.Zeros(new Shape(3), DType.Float32, Device.Cpu);
        var error = Assert.Throws<ArgumentException>(() => GroupNorm.Backward(x, x, 2, gamma));
        Assert.StartsWith("group_norm_backward: gamma", error.Message);
    }

    [Fact]
    public void BackwardOfAnEmptyBatchGivesZeroParameterGradients()
    {
        using var x = Tensor.Zeros(new Shape(0, 4, 3, 3), DType.Float32, Device.Cpu);
        using var gamma = Tensor.Zeros(new Shape(4), DType.Float32, Device.Cpu);
        var (dx, dgamma, dbeta) = GroupNorm.Backward(x, x, 2, gamma);
        using (dx)
        using (dgamma)
        using (dbeta)
        {
            Assert.Equal(x.Shape, dx.Shape);
            Assert.Equal(new float[4], dgamma!.ToArray<float>());
            Assert.Equal(new float[4], dbeta!.ToArray<float>());
        }
    }
}
