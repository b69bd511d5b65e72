using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>
/// Bilinear resize's backward (and concat's, through the tape) against torch autograd
/// (tests/reference/make_bpr_grad_fixtures.py), on the CPU twin and the emulated CUDA kernel.
/// </summary>
public class BilinearGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases => GradientFixture.OnEveryDevice("up4", "up_odd_align", "down", "same");

    private static SafetensorsFile Open() => SafetensorsFile.Open(FixturePaths.Fixture("grad_bpr.safetensors"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BilinearBackwardMatchesTorch(string name, string device)
    {
        var on = GradientFixture.Resolve(device);
        using var file = Open();
        using var gy = GradientFixture.Load(file, $"bilinear.{name}.gy", on);
        using var expected = file.Load($"bilinear.{name}.dx");
        // torch scatters in output order, the kernels gather per input: only the order of additions differs.
        GradientFixture.AssertClose(output, $"bilinear/{name}/{device}", expected,
            Resize.BilinearBackward(gy, expected.Shape[2], expected.Shape[3], alignCorners: name == "up_odd_align"), 1e-5);
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void ConcatHandsEachInputItsSliceOfTheGradient(string device)
    {
        var on = GradientFixture.Resolve(device);
        using var file = Open();
        using var scope = TensorScope.Begin();
        using var a = new Parameter("a", Tensor.Zeros(new Shape(2, 3, 4, 4), DType.Float32, on));
        using var b = new Parameter("b", Tensor.Zeros(new Shape(2, 5, 4, 4), DType.Float32, on));
        using (var tape = Tape.Record([a, b]))
        {
            var y = Functional.Concat([a.Value, b.Value], 1);
            tape.Backward([(y, GradientFixture.Load(file, "concat.gy", on))]);
        }
        using var da = file.Load("concat.da");
        using var db = file.Load("concat.db");
        GradientFixture.AssertClose(output, $"concat/a/{device}", da, a.Grad!.Share(), 0);
        GradientFixture.AssertClose(output, $"concat/b/{device}", db, b.Grad!.Share(), 0);
    }

    public static TheoryData<string> Devices => [.. GradientFixture.Devices];

    [Fact]
    public void BackwardRejectsAnEmptyInputSize()
    {
        using var gy = Tensor.Zeros(new Shape(1, 1, 4, 4), DType.Float32, Device.Cpu);
        var error = Assert.Throws<ArgumentException>(() => Resize.BilinearBackward(gy, 0, 2, alignCorners: false));
        Assert.StartsWith("resize_bilinear_backward: input size", error.Message);
    }
}
