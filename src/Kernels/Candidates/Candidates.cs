using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Candidates;

/// <summary>
/// Which candidates of a [rows, perRow] score grid pass a filter: scores at least <see cref="MinScore"/> (above it
/// when <see cref="Strict"/>), column <see cref="SkipColumn"/> (a background class; −1 for none) never.
/// </summary>
public readonly record struct CandidateRule(float MinScore, bool Strict, int PerRow = 1, int SkipColumn = -1);

/// <summary>What <see cref="Candidates.Take"/> picked, all on the ranking's device: a prefix of <see cref="Count"/> slots.</summary>
/// <param name="Index">int64 [k]: each slot's candidate position, −1 past the count.</param>
/// <param name="Select">int64 [k]: slot i's row i·perRow + column of an [k·perRow, …] view (its class's channel).</param>
/// <param name="Column">float32 [k]: the position's column (its class) as a float, for packing with boxes and scores.</param>
/// <param name="Row">int64 [k]: the position's row of the grid (position / perRow, e.g. its location), −1 past the count.</param>
/// <param name="Count">int64 [1]: how many slots hold a passing candidate.</param>
public sealed record TakenCandidates(Tensor Index, Tensor Select, Tensor Column, Tensor Row, Tensor Count) : IDisposable
{
    public void Dispose()
    {
        Index.Dispose();
        Select.Dispose();
        Column.Dispose();
        Row.Dispose();
        Count.Dispose();
    }
}

/// <summary>
/// Selecting detection candidates with every count kept on the device: the filter before an NMS, the survivors
/// of NMS run segment by segment, and the first k passing entries of a ranking. A failing candidate is not
/// removed (that would need its count on the host) but demoted: score −inf and class −1, which a batched NMS
/// ranks after every passing candidate and never lets suppress one.
/// </summary>
public static class Candidates
{
    private const string Op = "candidates";

    private static KernelSource Source => KernelCatalog.Get("Candidates/Candidates.cu");

    /// <summary>The scores and int64 classes an NMS should see: a candidate's own, or −inf and −1 when it fails.</summary>
    /// <param name="scores">float32 [n] (or any shape of n elements, read as rows of <c>rule.PerRow</c>).</param>
    /// <param name="keep">uint8 [n], 0 fails the candidate (a small-box mask); null passes all.</param>
    /// <param name="classes">int64 [n]; null uses each candidate's column.</param>
    /// <param name="rows">int64 [1]: rows at or past it fail (a padded batch's count); null passes all rows.</param>
    public static (Tensor Scores, Tensor Classes) Filter(Tensor scores, Tensor? keep, Tensor? classes, Tensor? rows, CandidateRule rule)
    {
        Check.DType(scores, DType.Float32, Op, "scores");
        long n = scores.Numel;
        Check.That(rule.PerRow >= 1 && n % rule.PerRow == 0, Op, $"{n} scores are not whole rows of {rule.PerRow}");
        Check.That(keep is null || (keep.DType == DType.UInt8 && keep.Numel == n), Op, $"keep must be uint8 with {n} elements, got {keep?.DType.Name()} {keep?.Shape}");
        Check.That(classes is null || (classes.DType == DType.Int64 && classes.Numel == n), Op, $"classes must be int64 with {n} elements, got {classes?.DType.Name()} {classes?.Shape}");
        Check.That(rows is null || (rows.DType == DType.Int64 && rows.Numel == 1), Op, $"rows must be one int64, got {rows?.DType.Name()} {rows?.Shape}");
        Check.SameDevice(Op, [scores, .. new[] { keep, classes, rows }.OfType<Tensor>()]);
        var outScores = Tensor.Empty(scores.Device, DType.Float32, checked((int)n));
        var outClasses = Tensor.Empty(scores.Device, DType.Int64, (int)n);
        if (n == 0) return (outScores, outClasses);
        if (scores.Device.IsCpu) FilterCpu(scores, keep, classes, rows, rule, outScores, outClasses);
        else LaunchFilter(scores, keep, classes, rows, rule, outScores, outClasses, n);
        return (outScores, outClasses);
    }

    /// <summary>
    /// For segments of n candidates that were each run through NMS on their own: float32 [S, n] holding a
    /// candidate's score where its segment's keep list names it, −inf elsewhere.
    /// </summary>
    /// <param name="keep">int64 [S, n]: each segment's kept indices into the segment, −1 padded.</param>
    /// <param name="scores">float32 [S, n].</param>
    public static Tensor KeptScores(Tensor keep, Tensor scores)
    {
        Check.Rank(keep, 2, Op, "keep");
        Check.DType(keep, DType.Int64, Op, "keep");
        Check.DType(scores, DType.Float32, Op, "scores");
        Check.That(scores.Shape == keep.Shape, Op, $"scores {scores.Shape} must match keep {keep.Shape}");
        Check.SameDevice(Op, keep, scores);
        var output = Tensor.Empty(keep.Shape, DType.Float32, keep.Device);
        if (output.Numel == 0) return output;
        if (keep.Device.IsCpu) KeptScoresCpu(keep.AsSpan<long>(), scores.AsSpan<float>(), keep.Shape[1], output.AsSpan<float>());
        else LaunchKeptScores(keep, scores, output);
        return output;
    }

    /// <summary>
    /// The first <paramref name="k"/> passing entries of a ranking: positions ≥ 0 whose score is above −inf.
    /// The ranking must put every passing entry first, as a descending sort or an NMS of filtered scores does.
    /// </summary>
    /// <param name="order">int64 [n]: candidate positions into <paramref name="scores"/>, −1 padded.</param>
    /// <param name="scores">float32: the scores the ranking ranked, by position.</param>
    /// <param name="perRow">Candidates per row of the grid the positions index; its column is the class.</param>
    public static TakenCandidates Take(Tensor order, Tensor scores, int k, int perRow = 1) => Take(order, scores, k, k, perRow, null);

    /// <summary>
    /// A cut to the first <paramref name="limit"/> passing entries of a descending ranking that also keeps every
    /// later entry tied with the last of them (AdelaiDet's kthvalue cut), in <paramref name="slots"/> slots; and
    /// how many entries that cut keeps, int64 [1] — more than <paramref name="slots"/> when the ties overflow them.
    /// </summary>
    /// <param name="order">int64 [n]: candidate positions into <paramref name="scores"/>, −1 padded, by descending score.</param>
    public static (TakenCandidates Taken, Tensor Kept) TakeKeepingTies(Tensor order, Tensor scores, int limit, int slots)
    {
        Check.That(limit >= 1 && slots >= limit, Op, $"a cut that keeps ties needs 1 <= limit = {limit} <= slots = {slots}");
        var kept = Tensor.Empty(order.Device, DType.Int64, 1);
        return (Take(order, scores, slots, limit, 1, kept), kept);
    }

    private static TakenCandidates Take(Tensor order, Tensor scores, int k, int limit, int perRow, Tensor? kept)
    {
        Check.Rank(order, 1, Op, "order");
        Check.DType(order, DType.Int64, Op, "order");
        Check.DType(scores, DType.Float32, Op, "scores");
        Check.That(k >= 0 && perRow >= 1, Op, $"k = {k} must not be negative and perRow = {perRow} positive");
        Check.SameDevice(Op, order, scores);
        var taken = new TakenCandidates(Tensor.Empty(order.Device, DType.Int64, k), Tensor.Empty(order.Device, DType.Int64, k),
            Tensor.Empty(order.Device, DType.Float32, k), Tensor.Empty(order.Device, DType.Int64, k), Tensor.Empty(order.Device, DType.Int64, 1));
        if (order.Device.IsCpu)
            TakeCpu(order.AsSpan<long>(), scores.AsSpan<float>(), k, limit, perRow, taken, kept);
        else
            LaunchTake(order, scores, k, limit, perRow, taken, kept);
        return taken;
    }

    private static void FilterCpu(Tensor scores, Tensor? keep, Tensor? classes, Tensor? rows, CandidateRule rule, Tensor outScores, Tensor outClasses)
    {
        var s = scores.AsSpan<float>();
        var k = keep is null ? default : keep.AsSpan<byte>();
        var c = classes is null ? default : classes.AsSpan<long>();
        long rowLimit = rows is null ? long.MaxValue : rows.AsSpan<long>()[0];
        var os = outScores.AsSpan<float>();
        var oc = outClasses.AsSpan<long>();
        for (int i = 0; i < s.Length; i++)
        {
            int column = i % rule.PerRow;
            bool pass = (keep is null || k[i] != 0) && i / rule.PerRow < rowLimit && column != rule.SkipColumn
                && (rule.Strict ? s[i] > rule.MinScore : s[i] >= rule.MinScore);
            os[i] = pass ? s[i] : float.NegativeInfinity;
            oc[i] = pass ? (classes is null ? column : c[i]) : -1;
        }
    }

    private static void KeptScoresCpu(ReadOnlySpan<long> keep, ReadOnlySpan<float> scores, int n, Span<float> output)
    {
        output.Fill(float.NegativeInfinity);
        for (int i = 0; i < keep.Length; i++)
        {
            long j = keep[i];
            int segment = i / n * n;
            if (j >= 0 && j < n) output[segment + (int)j] = scores[segment + (int)j];
        }
    }

    private static void TakeCpu(ReadOnlySpan<long> order, ReadOnlySpan<float> scores, int k, int limit, int perRow, TakenCandidates taken, Tensor? kept)
    {
        var index = taken.Index.AsSpan<long>();
        var select = taken.Select.AsSpan<long>();
        var column = taken.Column.AsSpan<float>();
        var row = taken.Row.AsSpan<long>();
        long last = limit >= 1 && limit <= order.Length ? order[limit - 1] : -1;
        float cut = last >= 0 ? scores[(int)last] : float.PositiveInfinity;
        long passed = 0, wanted = 0;
        int span = kept is not null ? Math.Max(k, order.Length) : k;
        for (int i = 0; i < span; i++)
        {
            long p = i < order.Length ? order[i] : -1;
            bool ok = p >= 0 && scores[(int)p] > float.NegativeInfinity && (i < limit || scores[(int)p] >= cut);
            if (ok) wanted++;
            if (i >= k) continue;
            int c = ok ? (int)(p % perRow) : 0;
            index[i] = ok ? p : -1;
            select[i] = (long)i * perRow + c;
            column[i] = c;
            row[i] = ok ? p / perRow : -1;
            if (ok) passed++;
        }
        taken.Count.AsSpan<long>()[0] = passed;
        if (kept is not null) kept.AsSpan<long>()[0] = wanted;
    }

    private static unsafe void LaunchFilter(Tensor scores, Tensor? keep, Tensor? classes, Tensor? rows, CandidateRule rule, Tensor outScores, Tensor outClasses, long n)
    {
        var gpu = scores.Device.Gpu;
        nint s = scores.Pointer, k = keep?.Pointer ?? 0, c = classes?.Pointer ?? 0, r = rows?.Pointer ?? 0, os = outScores.Pointer, oc = outClasses.Pointer;
        int perRow = rule.PerRow, skip = rule.SkipColumn, strict = rule.Strict ? 1 : 0;
        float min = rule.MinScore;
        void** args = stackalloc void*[] { &s, &k, &c, &r, &n, &perRow, &skip, &min, &strict, &os, &oc };
        gpu.Launch(gpu.GetKernel(Source, "candidates_filter_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, args, 11);
    }

    private static unsafe void LaunchKeptScores(Tensor keep, Tensor scores, Tensor output)
    {
        var gpu = keep.Device.Gpu;
        nint k = keep.Pointer, s = scores.Pointer, o = output.Pointer;
        long segments = keep.Shape[0];
        int n = keep.Shape[1];
        void** args = stackalloc void*[] { &k, &s, &segments, &n, &o };
        gpu.Launch(gpu.GetKernel(Source, "candidates_kept_scores_f32"), new Dim3((uint)Math.Min(segments, 65535)), new Dim3(256), 0, args, 5);
    }

    private static unsafe void LaunchTake(Tensor order, Tensor scores, int k, int limit, int perRow, TakenCandidates taken, Tensor? kept)
    {
        if (k == 0)
        {
            taken.Count.Fill(0);
            return;
        }
        int n = order.Shape[0];
        var gpu = order.Device.Gpu;
        nint o = order.Pointer, s = scores.Pointer, index = taken.Index.Pointer, select = taken.Select.Pointer, column = taken.Column.Pointer;
        nint row = taken.Row.Pointer, count = taken.Count.Pointer, wanted = kept?.Pointer ?? 0;
        void** args = stackalloc void*[] { &o, &s, &n, &k, &limit, &perRow, &index, &select, &column, &row, &count, &wanted };
        gpu.Launch(gpu.GetKernel(Source, "candidates_take_f32"), new Dim3(1), new Dim3(256), 0, args, 12);
    }
}
