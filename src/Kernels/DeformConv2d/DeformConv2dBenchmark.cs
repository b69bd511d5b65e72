using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.DeformConv2d;

/// <summary>Modulated deformable 3×3 convolutions at the shapes of BlendMask's R_101_dcni3 backbone (res3–res5) at 800×1088.</summary>
internal sealed class DeformConv2dBenchmark : KernelBenchmark<DeformConv2dBenchmark.Size>
{
    public sealed record Size(string Name, int C, int H, int W, int K, int Stride);

    public override string Name => "deform_conv2d";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("3x3-32", 32, 34, 50, 32, 1)],
        BenchmarkPreset.Paper =>
        [
            new("res3-3x3-128", 128, 100, 136, 128, 1),
            new("res4-3x3-256", 256, 50, 68, 256, 1),
            new("res5-3x3-512", 512, 25, 34, 512, 1),
        ],
        BenchmarkPreset.Large => [new("res3-first-3x3-128-s2", 128, 200, 272, 128, 2)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} 1x{s.C}x{s.H}x{s.W}";

    private static (int H, int W) Out(Size s) => ((s.H - 1) / s.Stride + 1, (s.W - 1) / s.Stride + 1);

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        var (h, w) = Out(s);
        long pixels = (long)h * w;
        // The GEMM, plus four taps and a mask product per column entry.
        long flops = 2L * s.K * s.C * 9 * pixels + 9L * s.C * 9 * pixels;
        long bytes = ((long)s.C * s.H * s.W + 27L * pixels + (long)s.K * s.C * 9 + (long)s.K * pixels) * sizeof(float);
        return (flops, bytes);
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var (h, w) = Out(s);
        var p = new DeformConv2dParams { Convolution = new() { Stride = s.Stride, Padding = 1 } };
        var tensors = new List<Tensor>();
        for (int i = 0; i < copies; i++)
        {
            tensors.Add(RandomTensors.Uniform(device, 10 * i + 1, -1, 1, 1, s.C, s.H, s.W));
            tensors.Add(RandomTensors.Uniform(device, 10 * i + 2, -2, 2, 1, 18, h, w));
            tensors.Add(RandomTensors.Uniform(device, 10 * i + 3, 0, 1, 1, 9, h, w));
            tensors.Add(RandomTensors.Uniform(device, 10 * i + 4, -0.05f, 0.05f, s.K, s.C, 3, 3));
            tensors.Add(RandomTensors.Uniform(device, 10 * i + 5, -1, 1, s.K));
        }
        return new BenchmarkCase(copies, i => DeformConv2d.Forward(tensors[5 * i], tensors[5 * i + 1], tensors[5 * i + 2], tensors[5 * i + 3], tensors[5 * i + 4], p).Dispose(), tensors);
    }
}
