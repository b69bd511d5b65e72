using NativeSeg.Engine.Devices;

namespace NativeSeg.Kernels.Convolution;

/// <summary>conv_transpose2d as the mask head's 2× upsampling (2×2, stride 2, ReLU) and a 4×4 stride-2 variant.</summary>
internal sealed class ConvTranspose2dBenchmark : KernelBenchmark<ConvTranspose2dBenchmark.Size>
{
    public sealed record Size(string Name, int N, int Cin, int H, int W, int Cout, int R, int Stride, int Padding, int Groups, bool Relu);

    public override string Name => "conv_transpose2d";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small =>
        [
            new("2x2-s2-32", 8, 32, 14, 14, 32, 2, 2, 0, 1, true),
            new("4x4-s2-grouped", 1, 32, 20, 30, 32, 4, 2, 1, 2, false),
        ],
        BenchmarkPreset.Paper =>
        [
            new("mask-head-2x2-s2", 100, 256, 14, 14, 256, 2, 2, 0, 1, true),
            new("upsample-4x4-s2", 1, 256, 100, 136, 128, 4, 2, 1, 1, false),
        ],
        BenchmarkPreset.Large =>
        [
            new("mask-head-2x2-s2-b512", 512, 256, 14, 14, 256, 2, 2, 0, 1, true),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.N}x{s.Cin}x{s.H}x{s.W}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        int outH = (s.H - 1) * s.Stride - 2 * s.Padding + s.R, outW = (s.W - 1) * s.Stride - 2 * s.Padding + s.R;
        long macs = (long)s.N * s.Cin * s.H * s.W * (s.Cout / s.Groups) * s.R * s.R;
        long x = (long)s.N * s.Cin * s.H * s.W, w = (long)s.Cin * (s.Cout / s.Groups) * s.R * s.R, y = (long)s.N * s.Cout * outH * outW;
        return (2 * macs, (x + w + s.Cout + y) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var p = new ConvTranspose2dParams { Stride = s.Stride, Padding = s.Padding, Groups = s.Groups, FuseRelu = s.Relu };
        return Conv2dBenchmark.Case(device, copies, [s.N, s.Cin, s.H, s.W], [s.Cin, s.Cout / s.Groups, s.R, s.R], s.Cout,
            (x, w, b) => ConvTranspose2d.Forward(x, w, b, p));
    }
}
