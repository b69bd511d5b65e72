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
public static partial class RoiAlign
{
    public const int MaxLevels = 5;

    private const string Op = "roi_align";

    private static KernelSource Source => KernelCatalog.Get("RoiAlign/RoiAlign.cu");

    /// <summary>Pooled features [R, C, outH, outW]. On a GPU, RoIs with an out-of-range level or batch index give zeros.</summary>
    public static Tensor Forward(IReadOnlyList<Tensor> features, IReadOnlyList<float> spatialScales, Tensor rois, Tensor levels, RoiAlignOptions options)
    {
        for (int l = 0; l < features.Count; l++)
        {
            Check.Rank(features[l], 4, Op, $"features[{l}]");
            Check.DType(features[l], DType.Float32, Op, $"features[{l}]");
        }
        CheckGeometry(Op, "features", [.. features.Select(f => f.Shape)], spatialScales, rois, levels, options);
        Check.SameDevice(Op, [.. features, rois, levels]);

        int r = rois.Shape[0], c = features[0].Shape[1];
        var output = Tensor.Empty(rois.Device, DType.Float32, r, c, options.OutputHeight, options.OutputWidth);
        if (output.Numel == 0) return output;
        if (rois.Device.IsCpu) RunCpu(features, spatialScales, rois, levels, options, output);
        else Launch(features, spatialScales, rois, levels, options, output);
        return output;
    }

    /// <summary>The checks Forward and Backward share: level count, per-level shapes and scales, RoIs, levels and options.</summary>
    private static void CheckGeometry(string op, string what, IReadOnlyList<Shape> shapes, IReadOnlyList<float> spatialScales, Tensor rois, Tensor levels, RoiAlignOptions options)
    {
        Check.That(shapes.Count is >= 1 and <= MaxLevels, op, $"needs 1 to {MaxLevels} feature levels, got {shapes.Count}");
        Check.That(spatialScales.Count == shapes.Count, op, $"{shapes.Count} feature levels but {spatialScales.Count} spatial scales");
        for (int l = 0; l < shapes.Count; l++)
        {
            Check.That(shapes[l].Rank == 4, op, $"{what}[{l}] must have 4 dimensions, got {shapes[l]}");
            Check.That(shapes[l][0] == shapes[0][0] && shapes[l][1] == shapes[0][1], op,
                $"{what}[{l}] {shapes[l]} must share batch and channels with {what}[0] {shapes[0]}");
            Check.That(spatialScales[l] > 0, op, $"spatial scale {spatialScales[l]} of level {l} must be positive");
        }
        Check.Rank(rois, 2, op, "rois");
        Check.DType(rois, DType.Float32, op, "rois");
        Check.That(rois.Shape[1] == 5, op, $"rois must be [R, 5] (batch, x1, y1, x2, y2), got {rois.Shape}");
        Check.Rank(levels, 1, op, "levels");
        Check.DType(levels, DType.Int32, op, "levels");
        Check.That(levels.Shape[0] == rois.Shape[0], op, $"levels {levels.Shape} must have one entry per RoI of {rois.Shape}");
        Check.That(options.OutputHeight > 0 && options.OutputWidth > 0, op, $"output size {options.OutputHeight}x{options.OutputWidth} must be positive");
        Check.That(options.SamplingRatio >= 0, op, $"sampling ratio {options.SamplingRatio} must be >= 0 (0 = adaptive)");
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
        int roiCount = rois.Shape[0], channels = features[0].Shape[1];
        var plan = RoiSamplingPlan.Build(Op, [.. features.Select(f => f.Shape)], scales, rois, levels, o);
        float* roiData = (float*)rois.Pointer;
        int* levelData = (int*)levels.Pointer;
        float* outData = (float*)output.Pointer;
        var planes = features.Select(f => f.Pointer).ToArray();
        int[] heights = plan.Heights, widths = plan.Widths;
        int binCount = o.OutputHeight * o.OutputWidth;
        // Channels outermost: RoI-major order reads every RoI's footprint in all 256 planes, a cache miss
        // per touched row per plane, while one plane at a time is read from memory once for all RoIs.
        // The plan's order groups RoIs by input plane, which stays in cache across the group.
        Parallel.For(0, channels, CpuThreads.Options, ch =>
        {
            fixed (int* rowIdx = plan.Rows.Index, rowStart = plan.Rows.Start, colIdx = plan.Cols.Index, colStart = plan.Cols.Start)
            fixed (float* rowW = plan.Rows.Weight, colW = plan.Cols.Weight)
            fixed (int* sorted = plan.Order)
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

    private static unsafe void Launch(IReadOnlyList<Tensor> features, IReadOnlyList<float> scales, Tensor rois, Tensor levels, RoiAlignOptions o, Tensor output)
    {
        var gpu = rois.Device.Gpu;
        int levelCount = features.Count, batch = features[0].Shape[0], channels = features[0].Shape[1];
        nint roiPtr = rois.Pointer, levelPtr = levels.Pointer, outPtr = output.Pointer;
        int roiCount = rois.Shape[0], outH = o.OutputHeight, outW = o.OutputWidth, sampling = o.SamplingRatio, aligned = o.Aligned ? 1 : 0;
        LevelArguments level;
        void** args = stackalloc void*[]
        {
            null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
            &levelCount, &batch, &channels,
            &roiPtr, &levelPtr, &outPtr,
            &roiCount, &outH, &outW, &sampling, &aligned,
        };
        LevelArguments.Stage(&level, [.. features.Select(f => f.Pointer)], [.. features.Select(f => f.Shape)], scales, args);
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
