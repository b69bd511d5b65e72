using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// conv2d with bias (+ReLU where the model fuses it) at the shapes of ResNet-50-FPN Mask R-CNN. The 3×3 stride-1
/// cases run twice: on the direct path and, as "-winograd", with the weight's Winograd transform prepared as compiled
/// models prepare it (CPU with AVX-512 only; CUDA and other CPUs run the direct path), so the two algorithms are
/// compared at the same sizes. The "-fp16" cases hold the weight in float16, as a model compiled for `--precision fp16`
/// does: half convolution with float accumulation (cuDNN's, or our half im2col and GEMM), between float activations.
/// The "-bf16" cases pack the weight in bf16 once, as a model compiled for `--precision bf16` does, and run the CPU's
/// bf16 implicit GEMM (listed where the CPU has AVX512_BF16 and the kernel's library; a device refuses them).
/// The "-join-fused" and "-join-separate" cases time a bottleneck's last conv with its residual join (add the shortcut,
/// then ReLU) done in the conv's epilogue, and as a conv followed by an add + ReLU pass over the output.
/// </summary>
internal sealed class Conv2dBenchmark : KernelBenchmark<Conv2dBenchmark.Size>
{
    public sealed record Size(string Name, int N, int C, int H, int W, int K, int R, int Stride, int Padding, int Groups, bool Relu, bool Winograd = false,
        bool Half = false, bool Bf16 = false, ResidualJoin Join = ResidualJoin.None)
    {
        public Conv2dParams Params => new() { Stride = Stride, Padding = Padding, Groups = Groups, FuseRelu = Relu };
    }

    /// <summary>How a case joins a residual map: not at all, in the conv's epilogue, or by a separate pass.</summary>
    public enum ResidualJoin
    {
        None,
        Fused,
        Separate,
    }

    public override string Name => "conv2d";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small =>
        [
            new("3x3-32", 1, 32, 34, 50, 32, 3, 1, 1, 1, true),
            new("1x1-64", 2, 64, 17, 25, 48, 1, 1, 0, 1, false),
            new("3x3-s2-grouped", 1, 32, 33, 41, 32, 3, 2, 1, 4, true),
            new("3x3-32-fp16", 1, 32, 34, 50, 32, 3, 1, 1, 1, true, Half: true),
            new("join-fused-1x1-64", 2, 64, 17, 25, 48, 1, 1, 0, 1, true, Join: ResidualJoin.Fused),
        ],
        BenchmarkPreset.Paper =>
        [
            // The stem and one conv per kind in the backbone, FPN and mask head at an 800×1088 input.
            new("stem-7x7-s2", 1, 3, 800, 1088, 64, 7, 2, 3, 1, true),
            new("res2-1x1-256-64", 1, 256, 200, 272, 64, 1, 1, 0, 1, true),
            new("res2-1x1-64-256-join-fused", 1, 64, 200, 272, 256, 1, 1, 0, 1, true, Join: ResidualJoin.Fused),
            new("res2-1x1-64-256-join-separate", 1, 64, 200, 272, 256, 1, 1, 0, 1, true, Join: ResidualJoin.Separate),
            new("fpn-3x3-256", 1, 256, 200, 272, 256, 3, 1, 1, 1, false),
            new("fpn-3x3-256-winograd", 1, 256, 200, 272, 256, 3, 1, 1, 1, false, true),
            new("fpn-3x3-256-fp16", 1, 256, 200, 272, 256, 3, 1, 1, 1, false, Half: true),
            new("res4-3x3-256", 1, 256, 50, 68, 256, 3, 1, 1, 1, true),
            new("res4-3x3-256-winograd", 1, 256, 50, 68, 256, 3, 1, 1, 1, true, true),
            new("mask-head-3x3-256", 100, 256, 14, 14, 256, 3, 1, 1, 1, true),
            new("mask-head-3x3-256-winograd", 100, 256, 14, 14, 256, 3, 1, 1, 1, true, true),
            new("mask-head-3x3-256-fp16", 100, 256, 14, 14, 256, 3, 1, 1, 1, true, Half: true),
            .. Bf16Sizes,
        ],
        BenchmarkPreset.Large =>
        [
            new("fpn-3x3-256-b2", 2, 256, 200, 272, 256, 3, 1, 1, 1, false),
            new("res5-3x3-512-s2", 1, 512, 100, 136, 512, 3, 2, 1, 1, true),
            new("resnext-3x3-g32", 1, 512, 100, 136, 512, 3, 1, 1, 32, true),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    /// <summary>The bf16 path beside the float sizes it shares, listed only where this CPU runs it.</summary>
    private static IEnumerable<Size> Bf16Sizes => Bf16PanelKernel.Unavailable is not null ? [] :
    [
        new("stem-7x7-s2-bf16", 1, 3, 800, 1088, 64, 7, 2, 3, 1, true, Bf16: true),
        new("res2-1x1-256-64-bf16", 1, 256, 200, 272, 64, 1, 1, 0, 1, true, Bf16: true),
        new("fpn-3x3-256-bf16", 1, 256, 200, 272, 256, 3, 1, 1, 1, false, Bf16: true),
        new("res4-3x3-256-bf16", 1, 256, 50, 68, 256, 3, 1, 1, 1, true, Bf16: true),
        new("mask-head-3x3-256-bf16", 100, 256, 14, 14, 256, 3, 1, 1, 1, true, Bf16: true),
    ];

    protected override string Label(Size s) =>
        $"{s.Name} {s.N}x{s.C}x{s.H}x{s.W}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        var g = Geometry(s);
        long x = (long)s.N * s.C * s.H * s.W, w = (long)s.K * (s.C / s.Groups) * s.R * s.R, y = (long)s.N * s.K * g.OutH * g.OutW;
        return (2 * g.Macs, (x + w + s.K + y) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var p = s.Params;
        int[] xShape = [s.N, s.C, s.H, s.W], wShape = [s.K, s.C / s.Groups, s.R, s.R];
        if (s.Half) return Case(device, copies, xShape, wShape, s.K, _ => null, (x, w, b, _) => Conv2d.Forward(x, w, b, p), DType.Float16);
        if (s.Bf16)
        {
            Check.That(device.IsCpu, "conv2d", $"bf16 convolutions run on the CPU only, not on {device}");
            return Case(device, copies, xShape, wShape, s.K, w => Bf16ConvWeights.Pack(w, p.Groups), (x, w, b, packed) => Conv2d.Forward(x, w, b, p, null, (Bf16ConvWeights?)packed));
        }
        if (s.Join != ResidualJoin.None) return JoinCase(device, copies, s);
        if (!s.Winograd) return Case(device, copies, xShape, wShape, s.K, (x, w, b) => Conv2d.Forward(x, w, b, p));
        // Each copy's weight is transformed once, outside the timed runs, as a compiled model does at load.
        return Case(device, copies, xShape, wShape, s.K, w => WinogradFilters.TryPrepare(w, p), (x, w, b, prepared) => Conv2d.Forward(x, w, b, p, (WinogradFilters?)prepared));
    }

    /// <summary>Per copy a random input, weight and bias (seeded by copy), run through <paramref name="forward"/>; conv_transpose2d's benchmark shares it.</summary>
    internal static BenchmarkCase Case(Device device, int copies, int[] xShape, int[] wShape, int biasLength, Func<Tensor, Tensor, Tensor, Tensor> forward) =>
        Case(device, copies, xShape, wShape, biasLength, _ => null, (x, w, b, _) => forward(x, w, b));

    /// <summary>
    /// As above, each copy's weight made <paramref name="weightType"/> and prepared once by <paramref name="prepare"/> (Winograd
    /// filters, bf16 weights; null: not prepared) before the runs.
    /// </summary>
    private static BenchmarkCase Case(Device device, int copies, int[] xShape, int[] wShape, int biasLength,
        Func<Tensor, IDisposable?> prepare, Func<Tensor, Tensor, Tensor, IDisposable?, Tensor> forward, DType weightType = DType.Float32)
    {
        var xs = new Tensor[copies];
        var ws = new Tensor[copies];
        var bs = new Tensor[copies];
        var prepared = new IDisposable?[copies];
        for (int i = 0; i < copies; i++)
        {
            xs[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 1, xShape);
            using (var w = RandomTensors.Uniform(device, 10 * i + 2, -0.05f, 0.05f, wShape)) ws[i] = Cast.To(w, weightType);
            bs[i] = RandomTensors.Uniform(device, 10 * i + 3, -1, 1, biasLength);
            prepared[i] = prepare(ws[i]);
        }
        return new BenchmarkCase(copies, i => forward(xs[i], ws[i], bs[i], prepared[i]).Dispose(),
            [.. xs, .. ws, .. bs, .. prepared.OfType<IDisposable>()]);
    }

    /// <summary>Per copy also a residual of the output's shape, joined in the epilogue or by a separate add + ReLU.</summary>
    private static BenchmarkCase JoinCase(Device device, int copies, Size s)
    {
        var g = Geometry(s);
        var residuals = new Tensor[copies];
        for (int i = 0; i < copies; i++) residuals[i] = RandomTensors.Uniform(device, 10 * i + 4, -1, 1, s.N, s.K, g.OutH, g.OutW);
        var fused = s.Params;
        var plain = fused with { FuseRelu = false };
        int next = 0;
        var inner = Case(device, copies, [s.N, s.C, s.H, s.W], [s.K, s.C, s.R, s.R], s.K, (x, w, b) =>
        {
            // The copies run in turn, so each call takes the next copy's residual, as Case takes its inputs.
            var r = residuals[next++ % copies];
            if (s.Join == ResidualJoin.Fused) return Conv2d.Forward(x, w, b, fused, null, residual: r);
            using var y = Conv2d.Forward(x, w, b, plain);
            return Elementwise.Arithmetic.AddRelu(y, r);
        });
        return new BenchmarkCase(copies, inner.Run, [inner, .. residuals]);
    }

    private static Conv2dGeometry Geometry(Size s) =>
        new(s.N, s.C, s.H, s.W, s.K, s.R, s.R, s.Stride, s.Stride, s.Padding, s.Padding, 1, 1, s.Groups);
}
