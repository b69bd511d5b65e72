using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

/// <summary>How an RoI's FPN level follows from its size; the flavours differ in eps and box-size arithmetic.</summary>
public enum LevelRule
{
    /// <summary>floor(k0 + log2(sqrt(area)/s0 + 1e-8)) — detectron2's <c>assign_boxes_to_levels</c>.</summary>
    Detectron2 = 0,

    /// <summary>floor(k0 + log2(sqrt(area)/s0) + 1e-6) — torchvision's <c>LevelMapper</c>.</summary>
    Torchvision = 1,

    /// <summary>floor(k0 + log2(sqrt(area₊₁)/s0 + 1e-6)) with +1 box sides — maskrcnn-benchmark.</summary>
    MaskRcnnBenchmark = 2,
}

/// <param name="SamplingRatio">Samples per bin side; 0 picks ceil(roi size / output size) per RoI.</param>
/// <param name="Aligned">ROIAlignV2 (−0.5 pixel shift, no minimum RoI size) or the legacy behaviour.</param>
public readonly record struct RoiAlignOptions(int OutputHeight, int OutputWidth, int SamplingRatio, bool Aligned);

/// <summary>
/// RoIAlign over all FPN levels in one pass, with torchvision.ops.roi_align semantics. RoIs are
/// [R, 5] rows (batch index, x1, y1, x2, y2) in image coordinates; <c>levels</c> [R] int32 picks each
/// RoI's feature map (an index into <c>features</c>), whose spatial scale maps image to map coordinates.
/// </summary>
public static class RoiAlign
{
    public const int MaxLevels = 5;

    private const string Op = "roi_align";

    private static KernelSource Source => KernelCatalog.Get("RoiAlign/RoiAlign.cu");

    /// <summary>Pooled features [R, C, outH, outW]. On a GPU, RoIs with an out-of-range level or batch index give zeros.</summary>
    public static Tensor Forward(IReadOnlyList<Tensor> features, IReadOnlyList<float> spatialScales, Tensor rois, Tensor levels, RoiAlignOptions options)
    {
        Check.That(features.Count is >= 1 and <= MaxLevels, Op, $"needs 1 to {MaxLevels} feature levels, got {features.Count}");
        Check.That(spatialScales.Count == features.Count, Op, $"{features.Count} feature levels but {spatialScales.Count} spatial scales");
        var first = features[0];
        Check.Rank(first, 4, Op, "features[0]");
        for (int l = 0; l < features.Count; l++)
        {
            Check.Rank(features[l], 4, Op, $"features[{l}]");
            Check.DType(features[l], DType.Float32, Op, $"features[{l}]");
            Check.That(features[l].Shape[0] == first.Shape[0] && features[l].Shape[1] == first.Shape[1], Op,
                $"features[{l}] {features[l].Shape} must share batch and channels with features[0] {first.Shape}");
            Check.That(spatialScales[l] > 0, Op, $"spatial scale {spatialScales[l]} of level {l} must be positive");
        }
        Check.Rank(rois, 2, Op, "rois");
        Check.DType(rois, DType.Float32, Op, "rois");
        Check.That(rois.Shape[1] == 5, Op, $"rois must be [R, 5] (batch, x1, y1, x2, y2), got {rois.Shape}");
        Check.Rank(levels, 1, Op, "levels");
        Check.DType(levels, DType.Int32, Op, "levels");
        Check.That(levels.Shape[0] == rois.Shape[0], Op, $"levels {levels.Shape} must have one entry per RoI of {rois.Shape}");
        Check.That(options.OutputHeight > 0 && options.OutputWidth > 0, Op, $"output size {options.OutputHeight}x{options.OutputWidth} must be positive");
        Check.That(options.SamplingRatio >= 0, Op, $"sampling ratio {options.SamplingRatio} must be >= 0 (0 = adaptive)");
        Check.SameDevice(Op, [.. features, rois, levels]);

        int r = rois.Shape[0], c = first.Shape[1];
        var output = Tensor.Empty(rois.Device, DType.Float32, r, c, options.OutputHeight, options.OutputWidth);
        if (output.Numel == 0) return output;
        if (rois.Device.IsCpu) RunCpu(features, spatialScales, rois, levels, options, output);
        else Launch(features, spatialScales, rois, levels, options, output);
        return output;
    }

    /// <summary>
    /// FPN level index (level − <paramref name="minLevel"/>) of each box, int32 [R]. Accepts boxes [R, 4] or
    /// RoIs [R, 5] (the last four columns are x1, y1, x2, y2).
    /// </summary>
    public static Tensor AssignLevels(Tensor boxes, LevelRule rule, int minLevel = 2, int maxLevel = 5, int canonicalLevel = 4, float canonicalSize = 224)
    {
        const string op = "roi_levels";
        Check.Rank(boxes, 2, op, "boxes");
        Check.DType(boxes, DType.Float32, op, "boxes");
        Check.That(boxes.Shape[1] is 4 or 5, op, $"boxes must be [R, 4] or [R, 5], got {boxes.Shape}");
        Check.That(minLevel <= maxLevel, op, $"min level {minLevel} exceeds max level {maxLevel}");
        int count = boxes.Shape[0], columns = boxes.Shape[1];
        var levels = Tensor.Empty(boxes.Device, DType.Int32, count);
        if (count == 0) return levels;
        if (boxes.Device.IsCpu)
        {
            var b = boxes.AsSpan<float>();
            var l = levels.AsSpan<int>();
            for (int i = 0; i < count; i++)
                l[i] = LevelOf(b.Slice(i * columns + columns - 4, 4), rule, minLevel, maxLevel, canonicalLevel, canonicalSize);
        }
        else
        {
            LaunchLevels(boxes, levels, columns, count, (int)rule, canonicalLevel, canonicalSize, minLevel, maxLevel);
        }
        return levels;
    }

    private static int LevelOf(ReadOnlySpan<float> b, LevelRule rule, int minLevel, int maxLevel, int canonicalLevel, float canonicalSize)
    {
        float extra = rule == LevelRule.MaskRcnnBenchmark ? 1f : 0f;
        float size = MathF.Sqrt((b[2] - b[0] + extra) * (b[3] - b[1] + extra));
        float level = rule == LevelRule.Torchvision
            ? MathF.Floor(canonicalLevel + MathF.Log2(size / canonicalSize) + 1e-6f)
            : MathF.Floor(canonicalLevel + MathF.Log2(size / canonicalSize + (rule == LevelRule.Detectron2 ? 1e-8f : 1e-6f)));
        // MaxNumber/MinNumber drop a NaN (degenerate box) the way CUDA's fmaxf/fminf do.
        level = float.MinNumber(float.MaxNumber(level, minLevel), maxLevel);
        return (int)level - minLevel;
    }

    private static unsafe void RunCpu(IReadOnlyList<Tensor> features, IReadOnlyList<float> scales, Tensor rois, Tensor levels, RoiAlignOptions o, Tensor output)
    {
        int roiCount = rois.Shape[0], batch = features[0].Shape[0], channels = features[0].Shape[1];
        float* roiData = (float*)rois.Pointer;
        int* levelData = (int*)levels.Pointer;
        float* outData = (float*)output.Pointer;
        var planes = new nint[features.Count];
        var heights = new int[features.Count];
        var widths = new int[features.Count];
        for (int l = 0; l < features.Count; l++)
        {
            planes[l] = features[l].Pointer;
            heights[l] = features[l].Shape[2];
            widths[l] = features[l].Shape[3];
        }
        for (int r = 0; r < roiCount; r++)
        {
            int level = levelData[r], n = (int)roiData[r * 5];
            if (level < 0 || level >= features.Count)
                throw new ArgumentException($"{Op}: RoI {r} has level {level}, outside the {features.Count} feature levels");
            if (n < 0 || n >= batch)
                throw new ArgumentException($"{Op}: RoI {r} has batch index {roiData[r * 5]}, outside the batch of {batch}");
        }
        var rowsOf = new Taps(o.OutputHeight, roiCount);
        var colsOf = new Taps(o.OutputWidth, roiCount);
        for (int r = 0; r < roiCount; r++)
        {
            int level = levelData[r];
            Plan(roiData + r * 5, r, scales[level], heights[level], widths[level], o, rowsOf, colsOf);
        }
        // Grouped by input plane so one channel's pass over a group reads a single feature plane, which
        // stays in cache across the group's RoIs.
        var order = new int[roiCount];
        var keys = new int[roiCount];
        for (int r = 0; r < roiCount; r++)
        {
            order[r] = r;
            keys[r] = (int)roiData[r * 5] * features.Count + levelData[r];
        }
        Array.Sort(keys, order);
        int binCount = o.OutputHeight * o.OutputWidth;
        // Channels outermost: RoI-major order reads every RoI's footprint in all 256 planes, a cache miss
        // per touched row per plane, while one plane at a time is read from memory once for all RoIs.
        Parallel.For(0, channels, CpuThreads.Options, ch =>
        {
            fixed (int* rowIdx = rowsOf.Index, rowStart = rowsOf.Start, colIdx = colsOf.Index, colStart = colsOf.Start)
            fixed (float* rowW = rowsOf.Weight, colW = colsOf.Weight)
            fixed (int* sorted = order)
            {
                for (int k = 0; k < roiCount; k++)
                {
                    int r = sorted[k], level = levelData[r], width = widths[level];
                    float* plane = (float*)planes[level] + ((long)(int)roiData[r * 5] * channels + ch) * heights[level] * width;
                    float* dst = outData + ((long)r * channels + ch) * binCount;
                    int* rs = rowStart + r * o.OutputHeight, cs = colStart + r * o.OutputWidth;
                    for (int ph = 0; ph < o.OutputHeight; ph++)
                    {
                        for (int pw = 0; pw < o.OutputWidth; pw++)
                        {
                            float sum = 0;
                            int c0 = cs[pw], c1 = cs[pw + 1];
                            for (int i = rs[ph]; i < rs[ph + 1]; i++)
                            {
                                float* line = plane + (long)rowIdx[i] * width;
                                float partial = 0;
                                for (int j = c0; j < c1; j++) partial += colW[j] * line[colIdx[j]];
                                sum += rowW[i] * partial;
                            }
                            *dst++ = sum;
                        }
                    }
                }
            }
        });
    }

    /// <summary>
    /// One axis of every RoI's sampling plan: for each bin, the distinct pixel indices its samples touch and
    /// their summed weights. A bin's value is Σ_rows wy · Σ_cols wx · plane[row, col] because each sample's
    /// bilinear weight is a y factor times an x factor (zero outside the map on either axis); neighbouring
    /// samples share taps, so this reads each pixel once per bin instead of once per sample.
    /// </summary>
    private sealed class Taps(int bins, int rois)
    {
        public int Bins { get; } = bins;

        /// <summary>Bin b of RoI r has taps Start[r·Bins + b] .. Start[r·Bins + b + 1] − 1.</summary>
        public int[] Start { get; } = new int[rois * bins + 1];

        public int[] Index { get; private set; } = new int[Math.Max(rois * bins * 4, 1)];

        public float[] Weight { get; private set; } = new float[Math.Max(rois * bins * 4, 1)];

        public void Open(int bin) => Start[bin + 1] = Start[bin];

        /// <summary>
        /// Adds a tap to bin <paramref name="bin"/>. Samples arrive in increasing order, each as a (low, low + 1)
        /// pair, so a repeated pixel can only be one of the last two taps.
        /// </summary>
        public void Add(int bin, int index, float weight)
        {
            int end = Start[bin + 1];
            for (int k = end - 1; k >= Math.Max(Start[bin], end - 2); k--)
            {
                if (Index[k] != index) continue;
                Weight[k] += weight;
                return;
            }
            if (end == Index.Length)
            {
                Index = Grow(Index);
                Weight = Grow(Weight);
            }
            Index[end] = index;
            Weight[end] = weight;
            Start[bin + 1] = end + 1;
        }

        private static T[] Grow<T>(T[] a)
        {
            var b = new T[a.Length * 2];
            a.CopyTo(b, 0);
            return b;
        }
    }

    /// <summary>
    /// Fills RoI <paramref name="r"/>'s row and column taps, with 1 / (samples per bin) folded into the row
    /// weights. A degenerate aligned RoI (no samples) gets no taps, so every bin pools to 0.
    /// </summary>
    private static unsafe void Plan(float* roi, int r, float scale, int height, int width, RoiAlignOptions o, Taps rowsOf, Taps colsOf)
    {
        float offset = o.Aligned ? 0.5f : 0f;
        float startW = roi[1] * scale - offset, startH = roi[2] * scale - offset;
        float endW = roi[3] * scale - offset, endH = roi[4] * scale - offset;
        float roiW = endW - startW, roiH = endH - startH;
        if (!o.Aligned)
        {
            roiW = MathF.Max(roiW, 1f);
            roiH = MathF.Max(roiH, 1f);
        }
        float binH = roiH / o.OutputHeight, binW = roiW / o.OutputWidth;
        int gridH = o.SamplingRatio > 0 ? o.SamplingRatio : (int)MathF.Ceiling(roiH / o.OutputHeight);
        int gridW = o.SamplingRatio > 0 ? o.SamplingRatio : (int)MathF.Ceiling(roiW / o.OutputWidth);
        if (gridH <= 0 || gridW <= 0) gridH = gridW = 0;
        float count = Math.Max(gridH * gridW, 1);
        FillAxis(rowsOf, r, startH, binH, gridH, height, 1f / count);
        FillAxis(colsOf, r, startW, binW, gridW, width, 1f);
    }

    /// <summary>The 1-D half of torchvision's bilinear_interpolate for every sample along one axis of RoI <paramref name="r"/>.</summary>
    private static void FillAxis(Taps axis, int r, float start, float bin, int grid, int size, float scale)
    {
        for (int p = 0; p < axis.Bins; p++)
        {
            int global = r * axis.Bins + p;
            axis.Open(global);
            for (int i = 0; i < grid; i++)
            {
                float v = start + p * bin + (i + 0.5f) * bin / grid;
                // Outside [-1, size] the whole sample is zero: its product weight vanishes with this factor.
                if (v < -1f || v > size) continue;
                if (v <= 0) v = 0;
                int low = (int)v, high;
                if (low >= size - 1) { high = low = size - 1; v = low; } else high = low + 1;
                float l = v - low;
                axis.Add(global, low, (1f - l) * scale);
                axis.Add(global, high, l * scale);
            }
        }
    }

    private static unsafe void Launch(IReadOnlyList<Tensor> features, IReadOnlyList<float> scales, Tensor rois, Tensor levels, RoiAlignOptions o, Tensor output)
    {
        var gpu = rois.Device.Gpu;
        nint* f = stackalloc nint[MaxLevels];
        int* h = stackalloc int[MaxLevels];
        int* w = stackalloc int[MaxLevels];
        float* s = stackalloc float[MaxLevels];
        for (int l = 0; l < MaxLevels; l++)
        {
            // Unused slots repeat level 0 so every pointer argument is valid.
            var t = features[l < features.Count ? l : 0];
            f[l] = t.Pointer;
            h[l] = t.Shape[2];
            w[l] = t.Shape[3];
            s[l] = scales[l < features.Count ? l : 0];
        }
        int levelCount = features.Count, batch = features[0].Shape[0], channels = features[0].Shape[1];
        nint roiPtr = rois.Pointer, levelPtr = levels.Pointer, outPtr = output.Pointer;
        int roiCount = rois.Shape[0], outH = o.OutputHeight, outW = o.OutputWidth, sampling = o.SamplingRatio, aligned = o.Aligned ? 1 : 0;
        void** args = stackalloc void*[]
        {
            &f[0], &f[1], &f[2], &f[3], &f[4],
            &h[0], &h[1], &h[2], &h[3], &h[4],
            &w[0], &w[1], &w[2], &w[3], &w[4],
            &s[0], &s[1], &s[2], &s[3], &s[4],
            &levelCount, &batch, &channels,
            &roiPtr, &levelPtr, &outPtr,
            &roiCount, &outH, &outW, &sampling, &aligned,
        };
        gpu.Launch(gpu.GetKernel(Source, "roi_align_f32"), Dim3.Cover(output.Numel, 256), new Dim3(256), 0, args, 31);
    }

    private static unsafe void LaunchLevels(Tensor boxes, Tensor levels, int columns, int count, int rule, int canonicalLevel, float canonicalSize, int minLevel, int maxLevel)
    {
        var gpu = boxes.Device.Gpu;
        nint boxPtr = boxes.Pointer, levelPtr = levels.Pointer;
        void** args = stackalloc void*[] { &boxPtr, &columns, &count, &rule, &canonicalLevel, &canonicalSize, &minLevel, &maxLevel, &levelPtr };
        gpu.Launch(gpu.GetKernel(Source, "roi_levels_f32"), Dim3.Cover(count, 256), new Dim3(256), 0, args, 9);
    }
}
