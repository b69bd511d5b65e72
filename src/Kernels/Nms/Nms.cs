using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Nms;

/// <summary>
/// Batched non-maximum suppression, torchvision.ops.batched_nms semantics: boxes [N, 4] (x1, y1, x2, y2)
/// float32, scores [N] float32, class ids [N] int64; a box is suppressed by a higher-ranked kept box of
/// the same class with IoU strictly above the threshold. Ranking is by descending score, ties to the lower
/// index (a stable sort), so the result does not depend on scheduling. Boxes of different classes never
/// interact (no coordinate-offset trick, hence none of its float rounding).
/// </summary>
public static class Nms
{
    private const string Op = "batched_nms";

    /// <summary>
    /// The sweep keeps one removed bit per box in shared memory: 47 KiB of the default 48 KiB per block,
    /// the rest holds its static staging arrays.
    /// </summary>
    public const int MaxBoxes = 47 * 1024 * 8;

    /// <summary>The launches' grid dimension that picks a segment goes up to 65535.</summary>
    public const int MaxSegments = 65535;

    private static KernelSource Source => KernelCatalog.Get("Nms/Nms.cu");

    /// <summary>
    /// Kept indices, int64 [K], in descending score order. On a GPU this reads the 8-byte count back to
    /// size the result; pipelines that must not sync use <see cref="BatchedPadded"/>.
    /// </summary>
    /// <param name="plusOne">
    /// maskrcnn-benchmark box arithmetic: widths and areas use x2 − x1 + 1. Suppression stays IoU &gt; threshold,
    /// as in its CUDA kernel (its CPU kernel suppresses at ≥).
    /// </param>
    public static Tensor Batched(Tensor boxes, Tensor scores, Tensor classes, float iouThreshold, bool plusOne = false)
    {
        var (keep, count) = BatchedPadded(boxes, scores, classes, iouThreshold, plusOne);
        using (keep)
        using (count)
        {
            long kept = count.ToArray<long>()[0];
            return keep.Slice(0, (int)kept);
        }
    }

    /// <summary>
    /// Kept indices in descending score order followed by −1 up to N (int64 [N]), and their count
    /// (int64 [1]), both on the input's device, with no host synchronisation: <see cref="Segmented"/> with one segment.
    /// </summary>
    public static (Tensor Keep, Tensor Count) BatchedPadded(Tensor boxes, Tensor scores, Tensor classes, float iouThreshold, bool plusOne = false)
    {
        Check.Rank(boxes, 2, Op, "boxes");
        Check.Rank(scores, 1, Op, "scores");
        Check.Rank(classes, 1, Op, "classes");
        int n = boxes.Shape[0];
        Check.That(boxes.Shape[1] == 4, Op, $"boxes must be [N, 4], got {boxes.Shape}");
        Check.That(scores.Shape[0] == n && classes.Shape[0] == n, Op,
            $"boxes {boxes.Shape}, scores {scores.Shape} and classes {classes.Shape} must have the same length");
        CheckElements(boxes, scores, classes, n);
        var keep = Tensor.Empty(boxes.Device, DType.Int64, n);
        var count = Tensor.Empty(boxes.Device, DType.Int64, 1);
        Run(boxes, scores, classes, 1, n, iouThreshold, plusOne, keep, count);
        return (keep, count);
    }

    /// <summary>
    /// <see cref="BatchedPadded"/> over S independent segments at once, in the same three launches however many
    /// there are (a box head's classes, a batch's images): boxes [S, n, 4], scores [S, n] and classes [S, n].
    /// Boxes of different segments never interact; within a segment classes still keep boxes apart.
    /// </summary>
    /// <returns>
    /// Per segment its kept indices into the segment in descending score order, then −1 up to n (int64 [S, n]),
    /// and its kept count (int64 [S]), on the input's device, with no host synchronisation.
    /// </returns>
    public static (Tensor Keep, Tensor Count) Segmented(Tensor boxes, Tensor scores, Tensor classes, float iouThreshold, bool plusOne = false)
    {
        Check.Rank(boxes, 3, Op, "boxes");
        Check.Rank(scores, 2, Op, "scores");
        Check.Rank(classes, 2, Op, "classes");
        int segments = boxes.Shape[0], n = boxes.Shape[1];
        Check.That(boxes.Shape[2] == 4, Op, $"boxes must be [S, n, 4], got {boxes.Shape}");
        Check.That(scores.Shape == new Shape(segments, n) && classes.Shape == scores.Shape, Op,
            $"boxes {boxes.Shape}, scores {scores.Shape} and classes {classes.Shape} must have the same segments and lengths");
        Check.That(segments <= MaxSegments, Op, $"{segments} segments exceed the {MaxSegments} one launch covers");
        CheckElements(boxes, scores, classes, n);
        var keep = Tensor.Empty(boxes.Device, DType.Int64, segments, n);
        var count = Tensor.Empty(boxes.Device, DType.Int64, segments);
        Run(boxes, scores, classes, segments, n, iouThreshold, plusOne, keep, count);
        return (keep, count);
    }

    /// <summary>What both forms require of their inputs beyond their shapes; <paramref name="n"/> is the boxes per segment.</summary>
    private static void CheckElements(Tensor boxes, Tensor scores, Tensor classes, int n)
    {
        Check.DType(boxes, DType.Float32, Op, "boxes");
        Check.DType(scores, DType.Float32, Op, "scores");
        Check.DType(classes, DType.Int64, Op, "classes");
        Check.That(n <= MaxBoxes, Op, $"{n} boxes exceed the {MaxBoxes} the device sweep holds");
        Check.SameDevice(Op, boxes, scores, classes);
    }

    /// <summary>The CPU twin segment by segment, or the three launches for all segments.</summary>
    private static void Run(Tensor boxes, Tensor scores, Tensor classes, int segments, int n, float threshold, bool plusOne, Tensor keep, Tensor count)
    {
        if (boxes.Device.IsCpu)
        {
            var allKeep = keep.AsSpan<long>();
            var counts = count.AsSpan<long>();
            for (int s = 0; s < segments; s++)
            {
                var segmentKeep = allKeep.Slice(s * n, n);
                int kept = RunCpu(boxes.AsSpan<float>().Slice(s * n * 4, n * 4), scores.AsSpan<float>().Slice(s * n, n),
                    classes.AsSpan<long>().Slice(s * n, n), threshold, plusOne, segmentKeep);
                segmentKeep[kept..].Fill(-1);
                counts[s] = kept;
            }
        }
        else if (n == 0 || segments == 0)
        {
            count.Fill(0);
        }
        else
        {
            Launch(boxes, scores, classes, segments, n, threshold, plusOne, keep, count);
        }
    }

    /// <summary>True when score b (index j) ranks before score a (index i); the device's nms_before.</summary>
    private static bool Before(float b, int j, float a, int i)
    {
        bool bNaN = float.IsNaN(b), aNaN = float.IsNaN(a);
        if (bNaN || aNaN) return bNaN && (!aNaN || j < i);
        return b > a || (b == a && j < i);
    }

    private static int RunCpu(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, ReadOnlySpan<long> classes, float threshold, bool plusOne, Span<long> keep)
    {
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var s = scores.ToArray();
        Array.Sort(order, (a, b) => a == b ? 0 : Before(s[b], b, s[a], a) ? 1 : -1);

        // Counting sort by class keeps each class's boxes in rank order, laid out as columns so the greedy
        // pass over a class compares a kept box with that class's later, still-alive boxes only.
        var groupOf = new Dictionary<long, int>();
        var sizes = new List<int>();
        foreach (int i in order)
        {
            if (!groupOf.TryGetValue(classes[i], out int g)) { groupOf[classes[i]] = g = sizes.Count; sizes.Add(0); }
            sizes[g]++;
        }
        var starts = new int[sizes.Count + 1];
        for (int g = 0; g < sizes.Count; g++) starts[g + 1] = starts[g] + sizes[g];
        var fill = starts[..^1];
        var member = new int[n];
        float extra = plusOne ? 1f : 0f;
        float[] x1 = new float[n], y1 = new float[n], x2 = new float[n], y2 = new float[n], area = new float[n];
        foreach (int i in order)
        {
            int k = fill[groupOf[classes[i]]]++;
            member[k] = i;
            (x1[k], y1[k], x2[k], y2[k]) = (boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]);
            area[k] = (x2[k] - x1[k] + extra) * (y2[k] - y1[k] + extra);
        }
        var removed = new bool[n];
        for (int g = 0; g < sizes.Count; g++)
        {
            for (int a = starts[g]; a < starts[g + 1]; a++)
            {
                if (removed[a]) continue;
                for (int b = a + 1; b < starts[g + 1]; b++)
                {
                    if (removed[b]) continue;
                    // The device's nms_iou operation for operation; MaxNumber/MinNumber treat NaN as fmaxf/fminf do.
                    float width = float.MaxNumber(float.MinNumber(x2[a], x2[b]) - float.MaxNumber(x1[a], x1[b]) + extra, 0f);
                    float height = float.MaxNumber(float.MinNumber(y2[a], y2[b]) - float.MaxNumber(y1[a], y1[b]) + extra, 0f);
                    float inter = width * height;
                    if (inter / (area[a] + area[b] - inter) > threshold) removed[b] = true;
                }
            }
        }
        var suppressed = new bool[n];
        for (int k = 0; k < n; k++) suppressed[member[k]] = removed[k];
        int kept = 0;
        foreach (int i in order)
        {
            if (!suppressed[i]) keep[kept++] = i;
        }
        return kept;
    }

    private static unsafe void Launch(Tensor boxes, Tensor scores, Tensor classes, int segments, int n, float threshold, bool plusOne, Tensor keep, Tensor count)
    {
        var gpu = boxes.Device.Gpu;
        var source = Source;
        int colBlocks = (n + 63) / 64, plus = plusOne ? 1 : 0;
        using var order = Tensor.Empty(boxes.Device, DType.Int32, segments, n);
        using var mask = Tensor.Empty(boxes.Device, DType.Int64, segments, n, colBlocks);
        nint scorePtr = scores.Pointer, boxPtr = boxes.Pointer, classPtr = classes.Pointer, orderPtr = order.Pointer;
        nint maskPtr = mask.Pointer, keepPtr = keep.Pointer, countPtr = count.Pointer;
        uint s = (uint)segments;

        void** rankArgs = stackalloc void*[] { &scorePtr, &n, &orderPtr };
        gpu.Launch(gpu.GetKernel(source, "nms_rank_f32"), new Dim3(Dim3.Cover(n, 256).X, s), new Dim3(256), 0, rankArgs, 3);

        void** maskArgs = stackalloc void*[] { &boxPtr, &classPtr, &orderPtr, &n, &colBlocks, &threshold, &plus, &maskPtr };
        gpu.Launch(gpu.GetKernel(source, "nms_mask_f32"), new Dim3((uint)colBlocks, (uint)colBlocks, s), new Dim3(64), 0, maskArgs, 8);

        void** sweepArgs = stackalloc void*[] { &maskPtr, &orderPtr, &n, &colBlocks, &keepPtr, &countPtr };
        gpu.Launch(gpu.GetKernel(source, "nms_sweep"), new Dim3(s), new Dim3(256), colBlocks * sizeof(ulong), sweepArgs, 6);
    }
}
