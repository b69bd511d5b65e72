using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>
/// The RPN's bookkeeping copies over the 267,069 anchors of an 800×1333 image (P2–P6): concatenating the
/// five levels' float scores (4-byte rows) and byte keep masks (odd offsets: the byte kernel), and
/// gathering the selected boxes and masks by an int64 index; in training, the gradient of the sampled
/// anchors' objectness gathered back (gather's backward); a level's rows cut back out of the first
/// level's tensor (narrow, concat's backward).
/// </summary>
internal sealed class IndexingBenchmark : KernelBenchmark<IndexingBenchmark.Size>
{
    public sealed record Size(string Op, DType DType, int[] Levels, int Columns, int Gathered);

    public override string Name => "indexing";

    private static readonly int[] PaperLevels = [200400, 50100, 12600, 3150, 819];

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset)
    {
        int[] levels = preset switch
        {
            BenchmarkPreset.Small => [3000, 750, 189, 51, 15],
            BenchmarkPreset.Paper => PaperLevels,
            BenchmarkPreset.Large => Array.ConvertAll(PaperLevels, l => 4 * l),
            _ => throw new ArgumentOutOfRangeException(nameof(preset)),
        };
        int gathered = preset == BenchmarkPreset.Small ? 300 : 4000;
        return
        [
            new("concat", DType.Float32, levels, 1, 0),
            new("concat", DType.UInt8, levels, 1, 0),
            new("narrow", DType.Float32, levels, 1, 0),
            new("narrow", DType.UInt8, levels, 1, 0),
            new("gather", DType.Float32, [levels.Sum()], 4, gathered),
            new("gather", DType.UInt8, [levels.Sum()], 1, gathered),
            new("gather_backward", DType.Float32, [levels.Sum()], 1, gathered),
        ];
    }

    protected override string Label(Size s) => s.Op is "concat" or "narrow"
        ? $"{s.Op}-{s.DType.Name()} {string.Join("+", s.Levels)}"
        : $"{s.Op}-{s.DType.Name()} {s.Gathered}-of-{s.Levels[0]}x{s.Columns}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long row = (long)s.Columns * s.DType.SizeOf();
        return s.Op == "concat" ? (0, 2 * s.Levels.Sum(l => (long)l) * row)
            : s.Op == "narrow" ? (0, 2 * (long)s.Levels[1] * row)
            : (0, s.Gathered * (2 * row + sizeof(long)));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var inputs = new Tensor[copies][];
        var indices = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            inputs[i] = s.Levels.Select((n, l) => Values(device, 10 * i + l, s.DType, n, s.Columns)).ToArray();
            var rng = new Random(10 * i + 9);
            var index = new long[s.Gathered];
            for (int j = 0; j < index.Length; j++) index[j] = rng.Next(s.Levels[0]);
            indices[i] = RandomTensors.OnDevice(Tensor.FromArray(index, index.Length), device);
        }
        bool backward = s.Op == "gather_backward";
        // Gather's backward reads its index on the host, where training samples it.
        Tensor[] hostIndices = backward ? [.. indices.Select(t => t.To(Device.Cpu))] : [];
        Tensor[] gradients = backward ? [.. indices.Select((_, i) => RandomTensors.Uniform(device, 50 + i, -1, 1, s.Gathered, s.Columns))] : [];
        Action<int> run = s.Op switch
        {
            "concat" => i => Concat.Forward(inputs[i], 0).Dispose(),
            "narrow" => i => Narrow.Forward(inputs[i][0], 0, s.Levels[2], s.Levels[1]).Dispose(),
            "gather" => i => Gather.Rows(inputs[i][0], indices[i]).Dispose(),
            _ => i => GatherBackward.Rows(gradients[i], hostIndices[i], s.Levels[0]).Dispose(),
        };
        return new BenchmarkCase(copies, run, [.. inputs.SelectMany(t => t), .. indices, .. hostIndices, .. gradients]);
    }

    private static Tensor Values(Device device, int seed, DType dtype, int rows, int columns)
    {
        if (dtype == DType.Float32) return RandomTensors.Uniform(device, seed, -1, 1, rows, columns);
        var bytes = new byte[(long)rows * columns];
        new Random(seed).NextBytes(bytes);
        return RandomTensors.OnDevice(Tensor.FromArray(bytes, rows, columns), device);
    }
}
