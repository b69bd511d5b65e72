using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;

namespace NativeSeg.Kernels.Dense;

/// <summary>linear at the box head's fc6/fc7 shapes (1000 proposals); "-fp16" with the float16 weight of `--precision fp16`.</summary>
internal sealed class LinearBenchmark : KernelBenchmark<LinearBenchmark.Size>
{
    public sealed record Size(string Name, int Rows, int In, int Out, bool Relu, bool Half = false);

    public override string Name => "linear";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("fc-256-128", 64, 256, 128, true), new("fc-odd", 33, 300, 77, false), new("fc-256-128-fp16", 64, 256, 128, true, true)],
        BenchmarkPreset.Paper => [new("box-fc6", 1000, 12544, 1024, true), new("box-fc7", 1000, 1024, 1024, true), new("box-predictor", 1000, 1024, 405, false),
            new("box-fc6-fp16", 1000, 12544, 1024, true, true)],
        BenchmarkPreset.Large => [new("box-fc6-b4", 4000, 12544, 1024, true)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Rows}x{s.In}";

    protected override (long Flops, long Bytes) Cost(Size s) =>
        (2L * s.Rows * s.In * s.Out, ((long)s.Rows * s.In + (long)s.Out * s.In + s.Out + (long)s.Rows * s.Out) * sizeof(float));

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var xs = new Tensor[copies];
        var ws = new Tensor[copies];
        var bs = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            xs[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 1, s.Rows, s.In);
            using (var w = RandomTensors.Uniform(device, 10 * i + 2, -0.05f, 0.05f, s.Out, s.In)) ws[i] = Cast.To(w, s.Half ? DType.Float16 : DType.Float32);
            bs[i] = RandomTensors.Uniform(device, 10 * i + 3, -1, 1, s.Out);
        }
        return new BenchmarkCase(copies, i => Linear.Forward(xs[i], ws[i], bs[i], s.Relu).Dispose(), [.. xs, .. ws, .. bs]);
    }
}
