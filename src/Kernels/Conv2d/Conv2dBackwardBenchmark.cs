using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

/// <summary>conv2d's three gradients together (dx, dW, db), as one training step of a layer needs them.</summary>
internal sealed class Conv2dBackwardBenchmark : KernelBenchmark<Conv2dBackwardBenchmark.Size>
{
    public sealed record Size(string Name, int N, int C, int H, int W, int K, int R, int Stride, int Padding, int Groups)
    {
        public Conv2dParams Params => new() { Stride = Stride, Padding = Padding, Groups = Groups };

        public Conv2dGeometry Geometry => new(N, C, H, W, K, R, R, Stride, Stride, Padding, Padding, 1, 1, Groups);
    }

    public override string Name => "conv2d_backward";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small =>
        [
            new("3x3-32", 1, 32, 34, 50, 32, 3, 1, 1, 1),
            new("1x1-64", 2, 64, 17, 25, 48, 1, 1, 0, 1),
            new("3x3-s2-grouped", 1, 32, 33, 41, 32, 3, 2, 1, 4),
        ],
        BenchmarkPreset.Paper =>
        [
            new("res2-1x1-256-64", 1, 256, 200, 272, 64, 1, 1, 0, 1),
            new("fpn-3x3-256", 1, 256, 200, 272, 256, 3, 1, 1, 1),
            new("mask-head-3x3-256", 100, 256, 14, 14, 256, 3, 1, 1, 1),
        ],
        BenchmarkPreset.Large =>
        [
            new("fpn-3x3-256-b2", 2, 256, 200, 272, 256, 3, 1, 1, 1),
            new("res5-3x3-512-s2", 1, 512, 100, 136, 512, 3, 2, 1, 1),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.N}x{s.C}x{s.H}x{s.W}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        var g = s.Geometry;
        long x = (long)s.N * s.C * s.H * s.W, w = (long)s.K * (s.C / s.Groups) * s.R * s.R, dy = (long)s.N * s.K * g.OutH * g.OutW;
        // dx and dW each cost a forward's multiply-adds; dy is read by all three gradients.
        return (4 * g.Macs, (3 * dy + 2 * x + 2 * w + s.K) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var g = s.Geometry;
        var p = s.Params;
        var xs = new Tensor[copies];
        var ws = new Tensor[copies];
        var dys = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            xs[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 1, s.N, s.C, s.H, s.W);
            ws[i] = RandomTensors.Uniform(device, 10 * i + 2, -0.05f, 0.05f, s.K, s.C / s.Groups, s.R, s.R);
            dys[i] = RandomTensors.Uniform(device, 10 * i + 4, -1, 1, s.N, s.K, g.OutH, g.OutW);
        }
        return new BenchmarkCase(copies, i =>
        {
            Conv2d.BackwardInput(dys[i], ws[i], p, xs[i].Shape).Dispose();
            Conv2d.BackwardWeight(xs[i], dys[i], p, ws[i].Shape).Dispose();
            Conv2d.BackwardBias(dys[i]).Dispose();
        }, [.. xs, .. ws, .. dys]);
    }
}
