using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Candidates;

/// <summary>
/// The box head's device-side selection for one image: filter a [proposals, classes] score grid, turn per-class
/// keep lists into kept scores and take the first 100 of a ranking (here the keep lists themselves).
/// </summary>
internal sealed class CandidatesBenchmark : KernelBenchmark<CandidatesBenchmark.Size>
{
    public sealed record Size(int Rows, int Classes, int K);

    public override string Name => "candidates";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(100, 11, 20)],
        BenchmarkPreset.Paper => [new(1000, 91, 100)],
        BenchmarkPreset.Large => [new(8000, 91, 100)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Rows}x{s.Classes} k{s.K}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long n = (long)s.Rows * s.Classes;
        return (n, n * (sizeof(float) * 3 + sizeof(long) * 2));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        int n = s.Rows * s.Classes;
        var scores = new Tensor[copies];
        var keeps = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            scores[i] = RandomTensors.Uniform(device, i + 1, 0, 1, s.Rows, s.Classes);
            var rng = new Random(i);
            var lists = new long[n];
            for (int j = 0; j < n; j++) lists[j] = rng.Next(4) == 0 ? -1 : j % s.Rows;
            keeps[i] = RandomTensors.OnDevice(Tensor.FromArray(lists, s.Classes, s.Rows), device);
        }
        var rule = new CandidateRule(0.05f, Strict: true, s.Classes, SkipColumn: 0);
        return new BenchmarkCase(copies, i =>
        {
            var (filtered, classes) = Candidates.Filter(scores[i], null, null, null, rule);
            using (classes)
            using (filtered)
            using (var segments = filtered.Reshape(s.Classes, s.Rows))
            using (var kept = Candidates.KeptScores(keeps[i], segments))
            using (var order = keeps[i].Reshape(n))
            using (var flat = kept.Reshape(n))
                Candidates.Take(order, flat, s.K, s.Classes).Dispose();
        }, [.. scores, .. keeps]);
    }
}
