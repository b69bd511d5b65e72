using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

public static partial class RoiAlign
{
    private const string BackwardOp = "roi_align_backward";

    /// <summary>
    /// The adjoint of <see cref="Forward"/>: the gradient of each feature level (shaped like
    /// <paramref name="featureShapes"/>) given the gradient of the pooled features [R, C, outH, outW]. Pixels
    /// no RoI sampled get zero. On a GPU, RoIs with an out-of-range level or batch index add nothing, and
    /// the adds are atomic, so the summation order (and the last bits) vary between runs; the CPU twin is
    /// deterministic.
    /// </summary>
    public static Tensor[] Backward(Tensor gradOutput, IReadOnlyList<Shape> featureShapes, IReadOnlyList<float> spatialScales, Tensor rois, Tensor levels, RoiAlignOptions options)
    {
        CheckGeometry(BackwardOp, "featureShapes", featureShapes, spatialScales, rois, levels, options);
        Check.DType(gradOutput, DType.Float32, BackwardOp, "gradOutput");
        var pooled = new Shape(rois.Shape[0], featureShapes[0][1], options.OutputHeight, options.OutputWidth);
        Check.That(gradOutput.Shape == pooled, BackwardOp, $"gradOutput {gradOutput.Shape} must be [R, C, outH, outW] = {pooled}");
        Check.SameDevice(BackwardOp, gradOutput, rois, levels);

        var grads = featureShapes.Select(s => Tensor.Zeros(s, DType.Float32, rois.Device)).ToArray();
        if (gradOutput.Numel == 0) return grads;
        try
        {
            if (rois.Device.IsCpu) RunCpuBackward(gradOutput, featureShapes, spatialScales, rois, levels, options, grads);
            else LaunchBackward(gradOutput, featureShapes, spatialScales, rois, levels, options, grads);
        }
        catch
        {
            foreach (var g in grads) g.Dispose();
            throw;
        }
        return grads;
    }

    /// <summary>
    /// Scatters each pooled gradient onto the taps the forward read. A channel's planes belong to that
    /// channel alone, so channels run in parallel without races, and each visits its RoIs in a fixed order.
    /// </summary>
    private static unsafe void RunCpuBackward(Tensor gradOutput, IReadOnlyList<Shape> shapes, IReadOnlyList<float> scales, Tensor rois, Tensor levels, RoiAlignOptions o, Tensor[] grads)
    {
        int roiCount = rois.Shape[0], channels = shapes[0][1];
        var plan = RoiSamplingPlan.Build(BackwardOp, shapes, scales, rois, levels, o);
        float* roiData = (float*)rois.Pointer;
        int* levelData = (int*)levels.Pointer;
        float* gradOut = (float*)gradOutput.Pointer;
        var planes = grads.Select(g => g.Pointer).ToArray();
        int[] heights = plan.Heights, widths = plan.Widths;
        int binCount = o.OutputHeight * o.OutputWidth;
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
                    float* src = gradOut + ((long)r * channels + ch) * binCount;
                    int* rs = rowStart + r * o.OutputHeight, cs = colStart + r * o.OutputWidth;
                    for (int ph = 0; ph < o.OutputHeight; ph++)
                    {
                        for (int pw = 0; pw < o.OutputWidth; pw++)
                        {
                            float g = *src++;
                            int c0 = cs[pw], c1 = cs[pw + 1];
                            for (int i = rs[ph]; i < rs[ph + 1]; i++)
                            {
                                float* line = plane + (long)rowIdx[i] * width;
                                float gy = g * rowW[i];
                                for (int j = c0; j < c1; j++) line[colIdx[j]] += gy * colW[j];
                            }
                        }
                    }
                }
            }
        });
    }

    private static unsafe void LaunchBackward(Tensor gradOutput, IReadOnlyList<Shape> shapes, IReadOnlyList<float> scales, Tensor rois, Tensor levels, RoiAlignOptions o, Tensor[] grads)
    {
        var gpu = rois.Device.Gpu;
        int levelCount = shapes.Count, batch = shapes[0][0], channels = shapes[0][1];
        nint roiPtr = rois.Pointer, levelPtr = levels.Pointer, gradPtr = gradOutput.Pointer;
        int roiCount = rois.Shape[0], outH = o.OutputHeight, outW = o.OutputWidth, sampling = o.SamplingRatio, aligned = o.Aligned ? 1 : 0;
        LevelArguments level;
        void** args = stackalloc void*[]
        {
            null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
            &levelCount, &batch, &channels,
            &roiPtr, &levelPtr, &gradPtr,
            &roiCount, &outH, &outW, &sampling, &aligned,
        };
        LevelArguments.Stage(&level, [.. grads.Select(g => g.Pointer)], shapes, scales, args);
        gpu.Launch(gpu.GetKernel(Source, "roi_align_backward_f32"), Dim3.Cover(gradOutput.Numel, 256), new Dim3(256), 0, args, 31);
    }
}
