using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Conversion;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Convolution;

/// <summary>
/// conv2d with the residual join in its epilogue (a ResNet block's last conv plus shortcut, FPN's lateral plus top-down
/// map) against the unfused path: the conv, then a separate add (+ ReLU). The epilogue adds in the same order, so the
/// relative error is expected to be zero on every CPU path.
/// </summary>
public class Conv2dResidualTests(ITestOutputHelper output)
{
    public static TheoryData<string, int[], int[], int, bool> Cases => new()
    {
        // path, x, weight, padding, relu. 1×1 as a bottleneck's conv3 and FPN's lateral: 36 filters (a partial block of 8),
        // 13×11 maps whose 48-pixel panels span rows and images; 3×3 with partial 4×4 tiles; fp16 weights (the CPU twin
        // of the device's half path).
        { "implicit-gemm", [2, 32, 13, 11], [36, 32, 1, 1], 0, true },
        { "implicit-gemm", [2, 32, 13, 11], [36, 32, 1, 1], 0, false },
        { "implicit-gemm", [1, 16, 23, 30], [20, 16, 3, 3], 1, true },
        { "columns", [2, 32, 13, 11], [36, 32, 1, 1], 0, true },
        { "columns", [1, 16, 23, 30], [20, 16, 3, 3], 1, true },
        { "winograd", [2, 32, 23, 30], [36, 32, 3, 3], 1, true },
        { "winograd", [1, 16, 9, 13], [19, 16, 3, 3], 1, false },
        { "fp16", [2, 32, 13, 11], [36, 32, 1, 1], 0, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedJoinEqualsTheConvThenASeparateAdd(string path, int[] xShape, int[] wShape, int padding, bool relu)
    {
        var algorithm = path switch
        {
            "implicit-gemm" => CpuConvAlgorithm.ImplicitGemm,
            "winograd" => CpuConvAlgorithm.Winograd,
            "columns" => CpuConvAlgorithm.Columns,
            _ => CpuConvAlgorithm.Auto,
        };
        if (algorithm is CpuConvAlgorithm.ImplicitGemm or CpuConvAlgorithm.Winograd && !Conv2dImplicitGemm.IsSupported)
        {
            output.WriteLine($"{path} needs AVX-512, which this CPU lacks");
            return;
        }
        using var scope = TensorScope.Begin();
        var x = RandomTensors.Uniform(Device.Cpu, 81, -1, 1, xShape);
        var w = RandomTensors.Uniform(Device.Cpu, 82, -1, 1, wShape);
        var weight = path == "fp16" ? Cast.To(w, DType.Float16) : w;
        var b = RandomTensors.Uniform(Device.Cpu, 83, -1, 1, wShape[0]);
        var p = new Conv2dParams { Padding = padding };
        var conv = Conv2d.Forward(x, weight, b, p, Conv2d.CpuColumnBudgetBytes, algorithm);
        var residual = RandomTensors.Uniform(Device.Cpu, 84, -1, 1, [.. conv.Shape.ToArray()]);
        var unfused = relu ? Arithmetic.AddRelu(conv, residual) : Arithmetic.Add(conv, residual);
        var fused = Conv2d.Forward(x, weight, b, p with { FuseRelu = relu }, Conv2d.CpuColumnBudgetBytes, algorithm, residual: residual);
        var result = KernelCheckRunner.Compare("conv2d+residual", [unfused], [fused], 0);
        output.WriteLine($"{path}: relative error {result.RelativeError:g3}");
        Assert.True(result.Passed, result.Failure ?? $"relative error {result.RelativeError:g3}, expected 0");
        if (relu) Assert.Contains(0f, fused.ToArray<float>());
    }

    [Fact]
    public void AResidualOfAnotherShapeIsRefusedNamingBoth()
    {
        using var scope = TensorScope.Begin();
        var x = RandomTensors.Uniform(Device.Cpu, 91, -1, 1, 1, 8, 6, 6);
        var w = RandomTensors.Uniform(Device.Cpu, 92, -1, 1, 4, 8, 1, 1);
        var residual = RandomTensors.Uniform(Device.Cpu, 93, -1, 1, 1, 4, 6, 5);
        var error = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, Conv2dParams.Default, null, residual: residual));
        Assert.Contains("residual [1, 4, 6, 5]", error.Message);
        Assert.Contains("[1, 4, 6, 6]", error.Message);
    }

    /// <summary>On a tape, the fused op's gradients (input, weight, bias and residual) are the unfused chain's.</summary>
    [Fact]
    public void GradientsEqualTheUnfusedChains()
    {
        using var scope = TensorScope.Begin();
        var shapes = new[] { new[] { 2, 8, 7, 9 }, [12, 8, 3, 3], [12], [2, 12, 7, 9] };
        float[][] Gradients(bool fused)
        {
            using var inner = TensorScope.Begin();
            var parameters = shapes.Select((s, i) => new Parameter($"t{i}", TensorScope.Release(RandomTensors.Uniform(Device.Cpu, 100 + i, -1, 1, s)))).ToArray();
            try
            {
                using var tape = Tape.Record(parameters);
                var (x, w, b, r) = (parameters[0].Value, parameters[1].Value, parameters[2].Value, parameters[3].Value);
                var p = new Conv2dParams { Padding = 1 };
                var y = fused
                    ? Functional.Conv2d(x, w, b, p with { FuseRelu = true }, residual: r)
                    : Functional.AddRelu(Functional.Conv2d(x, w, b, p), r);
                var seed = RandomTensors.Uniform(Device.Cpu, 110, -1, 1, shapes[3]);
                tape.Backward([(y, seed)]);
                return [.. parameters.Select(q => q.Grad!.ToArray<float>())];
            }
            finally
            {
                foreach (var q in parameters) q.Dispose();
            }
        }
        var expected = Gradients(fused: false);
        var actual = Gradients(fused: true);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i]);
    }
}
