using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

/// <summary>
/// Every RoI's bilinear taps for the CPU RoIAlign, shared by the forward pass and its adjoint so both
/// read and write exactly the same pixels with the same weights.
/// </summary>
internal sealed class RoiSamplingPlan
{
    private RoiSamplingPlan(RoiTaps rows, RoiTaps cols, int[] order, int[] heights, int[] widths)
    {
        Rows = rows;
        Cols = cols;
        Order = order;
        Heights = heights;
        Widths = widths;
    }

    public RoiTaps Rows { get; }

    public RoiTaps Cols { get; }

    /// <summary>RoI indices grouped by (batch index, level), so consecutive RoIs touch the same feature plane.</summary>
    public int[] Order { get; }

    public int[] Heights { get; }

    public int[] Widths { get; }

    /// <summary>Checks every RoI's level and batch index, then plans its taps.</summary>
    public static unsafe RoiSamplingPlan Build(string op, IReadOnlyList<Shape> featureShapes, IReadOnlyList<float> scales, Tensor rois, Tensor levels, RoiAlignOptions o)
    {
        int roiCount = rois.Shape[0], batch = featureShapes[0][0], levelCount = featureShapes.Count;
        float* roiData = (float*)rois.Pointer;
        int* levelData = (int*)levels.Pointer;
        var heights = new int[levelCount];
        var widths = new int[levelCount];
        for (int l = 0; l < levelCount; l++)
        {
            heights[l] = featureShapes[l][2];
            widths[l] = featureShapes[l][3];
        }
        for (int r = 0; r < roiCount; r++)
        {
            int level = levelData[r], n = (int)roiData[r * 5];
            if (level < 0 || level >= levelCount)
                throw new ArgumentException($"{op}: RoI {r} has level {level}, outside the {levelCount} feature levels");
            if (n < 0 || n >= batch)
                throw new ArgumentException($"{op}: RoI {r} has batch index {roiData[r * 5]}, outside the batch of {batch}");
        }
        var rows = new RoiTaps(o.OutputHeight, roiCount);
        var cols = new RoiTaps(o.OutputWidth, roiCount);
        for (int r = 0; r < roiCount; r++)
        {
            int level = levelData[r];
            Plan(roiData + r * 5, r, scales[level], heights[level], widths[level], o, rows, cols);
        }
        var order = new int[roiCount];
        var keys = new int[roiCount];
        for (int r = 0; r < roiCount; r++)
        {
            order[r] = r;
            keys[r] = (int)roiData[r * 5] * levelCount + levelData[r];
        }
        Array.Sort(keys, order);
        return new RoiSamplingPlan(rows, cols, order, heights, widths);
    }

    /// <summary>
    /// Fills RoI <paramref name="r"/>'s row and column taps, with 1 / (samples per bin) folded into the row
    /// weights. A degenerate aligned RoI (no samples) gets no taps, so every bin pools to 0.
    /// </summary>
    private static unsafe void Plan(float* roi, int r, float scale, int height, int width, RoiAlignOptions o, RoiTaps rowsOf, RoiTaps colsOf)
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
    private static void FillAxis(RoiTaps axis, int r, float start, float bin, int grid, int size, float scale)
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
}
