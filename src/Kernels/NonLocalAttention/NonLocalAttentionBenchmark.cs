using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.NonLocalAttention;

/// <summary>
/// BCNet's non-local block at the paper's size (100 RoIs × 256 channels × 14×14): the attention core
/// alone and the whole block with its four 1×1 projections. RoIs/s is the RoI count over the time.
/// </summary>
internal sealed class NonLocalAttentionBenchmark : KernelBenchmark<NonLocalAttentionBenchmark.Size>
{
    public sealed record Size(string Name, bool WholeBlock, int Rois, int Channels, int Side);

    public override string Name => "nonlocal_attention";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("core", false, 2, 32, 7), new("block", true, 2, 32, 7)],
        BenchmarkPreset.Paper => [new("core", false, 100, 256, 14), new("block", true, 100, 256, 14)],
        BenchmarkPreset.Large => [new("core", false, 1000, 256, 14), new("block", true, 1000, 256, 14)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Rois}x{s.Channels}x{s.Side}x{s.Side}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long n = (long)s.Side * s.Side, c = s.Channels, features = s.Rois * c * n;
        // Q·Kᵀ and P·V: 2·n²·c multiply-adds per RoI.
        long attention = 2 * 2 * s.Rois * n * n * c;
        if (!s.WholeBlock) return (attention, 4 * features * sizeof(float));
        long projections = 4 * 2 * s.Rois * n * c * c;
        return (attention + projections, (2 * features + 4 * c * c + c) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        int n = s.Side * s.Side, c = s.Channels;
        float scale = NonLocalAttention.BcnetScale(c), std = 1f / MathF.Sqrt(c);
        var resources = new List<Tensor>();
        Tensor Add(Tensor t)
        {
            resources.Add(t);
            return t;
        }

        if (!s.WholeBlock)
        {
            var qkv = Enumerable.Range(0, copies).Select(i => (
                Q: Add(RandomTensors.Normal(device, 10 * i + 1, 1, s.Rois, c, n)),
                K: Add(RandomTensors.Normal(device, 10 * i + 2, 1, s.Rois, c, n)),
                V: Add(RandomTensors.Normal(device, 10 * i + 3, 1, s.Rois, c, n)))).ToArray();
            return new BenchmarkCase(copies, i => NonLocalAttention.Attend(qkv[i].Q, qkv[i].K, qkv[i].V, scale).Dispose(), resources);
        }

        var xs = Enumerable.Range(0, copies).Select(i => Add(RandomTensors.Uniform(device, 10 * i + 1, 0, 2, s.Rois, c, s.Side, s.Side))).ToArray();
        // Weights as loaded: the output projection with its BatchNorm already folded in.
        var w = Enumerable.Range(0, 4).Select(i => Add(RandomTensors.Normal(device, 100 + i, std, c, c))).ToArray();
        var shift = Add(RandomTensors.Uniform(device, 110, -0.5f, 0.5f, c));
        return new BenchmarkCase(copies, i => NonLocalAttention.Forward(xs[i], w[0], w[1], w[2], w[3], shift, scale).Dispose(), resources);
    }
}
