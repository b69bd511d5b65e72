using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Elementwise;

/// <summary>
/// Element-wise arithmetic at feature-map sizes: a residual add (and its fused ReLU), a per-channel
/// multiply, and the affine pixel normalisation of an input image. All are bandwidth-bound.
/// </summary>
internal sealed class ElementwiseBenchmark : KernelBenchmark<ElementwiseBenchmark.Size>
{
    public sealed record Size(string Op, int[] Shape);

    public override string Name => "elementwise";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset)
    {
        int[] features, image;
        switch (preset)
        {
            case BenchmarkPreset.Small: (features, image) = ([1, 16, 30, 40], [1, 3, 120, 160]); break;
            case BenchmarkPreset.Paper: (features, image) = ([1, 256, 200, 336], [1, 3, 800, 1344]); break;
            case BenchmarkPreset.Large: (features, image) = ([2, 256, 400, 672], [8, 3, 800, 1344]); break;
            default: throw new ArgumentOutOfRangeException(nameof(preset));
        }
        return [new("add", features), new("add_relu", features), new("mul_channel", features), new("affine", image)];
    }

    protected override string Label(Size s) => $"{s.Op} {string.Join("x", s.Shape)}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long n = new Shape(s.Shape).Numel;
        int reads = s.Op is "add" or "add_relu" ? 2 : 1;
        return (s.Op is "add_relu" or "affine" ? 2 * n : n, (reads + 1) * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var a = new Tensor[copies];
        var b = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            a[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 1, s.Shape);
            b[i] = s.Op == "mul_channel"
                ? RandomTensors.Uniform(device, 10 * i + 2, 0.5f, 2, s.Shape[1])
                : RandomTensors.Uniform(device, 10 * i + 2, -1, 1, s.Shape);
        }
        Func<Tensor, Tensor, Tensor> op = s.Op switch
        {
            "add" => Arithmetic.Add,
            "add_relu" => Arithmetic.AddRelu,
            "mul_channel" => (x, v) => Arithmetic.BroadcastAxis(x, v, BinaryOp.Mul),
            "affine" => (x, _) => Arithmetic.Affine(x, 1f / 57.4f, -123.7f / 57.4f),
            _ => throw new ArgumentOutOfRangeException(nameof(s)),
        };
        return new BenchmarkCase(copies, i => op(a[i], b[i]).Dispose(), [.. a, .. b]);
    }
}
