using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

/// <summary>
/// Spatial resizing of (N, C, H, W) float32 with torch 1.13's F.interpolate semantics, index for index:
/// "nearest" (floor(dst·scale) in float32, the legacy non-"exact" mode) and "bilinear" with either
/// align_corners. The scale used for the source coordinate depends on how the call was made: with a
/// size it is in/out, with a scale factor it is 1/scale_factor (so e.g. 3→7 by size and 3→7 by factor
/// 2.4 sample different pixels), exactly as torch does when recompute_scale_factor is not set.
/// </summary>
public static partial class Resize
{
    private static KernelSource Source => KernelCatalog.Get("Resampling/Resampling.cu");

    /// <summary>F.interpolate(x, size=(outH, outW), mode="nearest").</summary>
    public static Tensor Nearest(Tensor x, int outH, int outW)
    {
        Validate(x, outH, outW, "resize_nearest");
        return Run(x, outH, outW, NearestScale(x.Shape[2], outH, null), NearestScale(x.Shape[3], outW, null), null);
    }

    /// <summary>F.interpolate(x, scale_factor=(scaleH, scaleW), mode="nearest"); FPN's top-down path uses 2.0.</summary>
    public static Tensor NearestScaled(Tensor x, double scaleH, double scaleW)
    {
        var (outH, outW) = ScaledSize(x, scaleH, scaleW, "resize_nearest");
        return Run(x, outH, outW, NearestScale(x.Shape[2], outH, scaleH), NearestScale(x.Shape[3], outW, scaleW), null);
    }

    /// <summary>
    /// Gradient of <see cref="Nearest"/> with respect to its (N, C, inH, inW) input: each input pixel
    /// receives the sum of the gradients of the outputs that copied it (none when downsampling skips it).
    /// </summary>
    public static Tensor NearestBackward(Tensor gradOutput, int inH, int inW)
    {
        const string op = "resize_nearest_backward";
        ValidateBackward(gradOutput, inH, inW, op);
        return NearestBackward(gradOutput, inH, inW, NearestScale(inH, gradOutput.Shape[2], null), NearestScale(inW, gradOutput.Shape[3], null));
    }

    /// <summary>Gradient of <see cref="NearestScaled"/> with respect to its (N, C, inH, inW) input.</summary>
    public static Tensor NearestScaledBackward(Tensor gradOutput, int inH, int inW, double scaleH, double scaleW)
    {
        const string op = "resize_nearest_backward";
        ValidateBackward(gradOutput, inH, inW, op);
        var (outH, outW) = ScaledSize(inH, inW, scaleH, scaleW, op, $"input size ({inH}, {inW})");
        Check.That(gradOutput.Shape[2] == outH && gradOutput.Shape[3] == outW, op,
            $"gradOutput {gradOutput.Shape} must be ({outH}, {outW}) spatially: input size ({inH}, {inW}) scaled by ({scaleH}, {scaleW})");
        return NearestBackward(gradOutput, inH, inW, NearestScale(inH, outH, scaleH), NearestScale(inW, outW, scaleW));
    }

    /// <summary>F.interpolate(x, size=(outH, outW), mode="bilinear", align_corners=alignCorners).</summary>
    public static Tensor Bilinear(Tensor x, int outH, int outW, bool alignCorners)
    {
        Validate(x, outH, outW, "resize_bilinear");
        return Run(x, outH, outW, LinearScale(x.Shape[2], outH, null, alignCorners), LinearScale(x.Shape[3], outW, null, alignCorners), alignCorners);
    }

    /// <summary>F.interpolate(x, scale_factor=(scaleH, scaleW), mode="bilinear", align_corners=alignCorners).</summary>
    public static Tensor BilinearScaled(Tensor x, double scaleH, double scaleW, bool alignCorners)
    {
        var (outH, outW) = ScaledSize(x, scaleH, scaleW, "resize_bilinear");
        return Run(x, outH, outW, LinearScale(x.Shape[2], outH, scaleH, alignCorners), LinearScale(x.Shape[3], outW, scaleW, alignCorners), alignCorners);
    }

    private static void Validate(Tensor x, int outH, int outW, string op)
    {
        Check.DType(x, DType.Float32, op, "input");
        Check.Rank(x, 4, op, "input");
        Check.That(outH > 0 && outW > 0, op, $"output size ({outH}, {outW}) must be positive (input {x.Shape})");
        Check.That(x.Shape[2] > 0 && x.Shape[3] > 0, op, $"input {x.Shape} has an empty spatial dimension");
    }

    private static void ValidateBackward(Tensor gradOutput, int inH, int inW, string op)
    {
        Check.DType(gradOutput, DType.Float32, op, "gradOutput");
        Check.Rank(gradOutput, 4, op, "gradOutput");
        Check.That(inH > 0 && inW > 0, op, $"input size ({inH}, {inW}) must be positive (gradOutput {gradOutput.Shape})");
        Check.That(gradOutput.Shape[2] > 0 && gradOutput.Shape[3] > 0, op, $"gradOutput {gradOutput.Shape} has an empty spatial dimension");
    }

    private static (int, int) ScaledSize(Tensor x, double scaleH, double scaleW, string op)
    {
        Check.Rank(x, 4, op, "input");
        var (outH, outW) = ScaledSize(x.Shape[2], x.Shape[3], scaleH, scaleW, op, $"input {x.Shape}");
        Validate(x, outH, outW, op);
        return (outH, outW);
    }

    /// <param name="context">Names the input in error messages.</param>
    private static (int, int) ScaledSize(int h, int w, double scaleH, double scaleW, string op, string context)
    {
        Check.That(scaleH > 0 && scaleW > 0 && double.IsFinite(scaleH) && double.IsFinite(scaleW), op,
            $"scale factors ({scaleH}, {scaleW}) must be positive and finite ({context})");
        // torch truncates the double product to get the output size.
        double outH = Math.Floor(h * scaleH), outW = Math.Floor(w * scaleW);
        Check.That(outH <= int.MaxValue && outW <= int.MaxValue, op, $"scale factors ({scaleH}, {scaleW}) overflow the output size of {context}");
        return ((int)outH, (int)outW);
    }

    // torch's nearest_idx: identity when the size is unchanged and a shift for exact doubling; 1 and
    // 0.5 reproduce those through floor(dst·scale) exactly.
    private static float NearestScale(int input, int output, double? scaleFactor)
    {
        if (output == input) return 1f;
        if (output == 2 * input) return 0.5f;
        return scaleFactor is double s ? (float)(1.0 / s) : (float)input / output;
    }

    private static int NearestSource(int dst, int input, float scale) => Math.Min((int)MathF.Floor(dst * scale), input - 1);

    // torch's area_pixel_compute_scale, plus its copy shortcut for an unchanged size (scale 1 maps every
    // output index onto itself with zero weight on the neighbour).
    private static float LinearScale(int input, int output, double? scaleFactor, bool alignCorners)
    {
        if (output == input) return 1f;
        if (alignCorners) return output > 1 ? (float)(input - 1) / (output - 1) : 0f;
        return scaleFactor is double s ? (float)(1.0 / s) : (float)input / output;
    }

    private readonly record struct Geometry(int Planes, int H, int W, int OutH, int OutW, float ScaleH, float ScaleW, bool? AlignCorners);

    private static Tensor Run(Tensor x, int outH, int outW, float scaleH, float scaleW, bool? alignCorners)
    {
        var y = Tensor.Empty(new Shape(x.Shape[0], x.Shape[1], outH, outW), DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        var g = new Geometry(x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], outH, outW, scaleH, scaleW, alignCorners);
        if (x.Device.IsCpu) RunCpu(x, y, g);
        else Launch(x, y, g);
        return y;
    }

    private static Tensor NearestBackward(Tensor gradOutput, int inH, int inW, float scaleH, float scaleW)
    {
        var dx = Tensor.Empty(new Shape(gradOutput.Shape[0], gradOutput.Shape[1], inH, inW), DType.Float32, gradOutput.Device);
        if (dx.Numel == 0) return dx;
        var g = new Geometry(dx.Shape[0] * dx.Shape[1], inH, inW, gradOutput.Shape[2], gradOutput.Shape[3], scaleH, scaleW, null);
        int[] ranges = [.. SourceRanges(inH, g.OutH, scaleH), .. SourceRanges(inW, g.OutW, scaleW)];
        if (dx.Device.IsCpu) RunNearestBackwardCpu(gradOutput, dx, ranges, g);
        else LaunchNearestBackward(gradOutput, dx, ranges, g);
        return dx;
    }

    // The outputs that copy input i are [ranges[i], ranges[i + 1]): the source index never decreases
    // along an axis, so they form one run. Knowing the runs lets each input gather its gradient
    // instead of outputs scattering into it with atomics.
    private static int[] SourceRanges(int input, int output, float scale)
    {
        var ranges = new int[input + 1];
        for (int dst = 0; dst < output; dst++) ranges[NearestSource(dst, input, scale) + 1]++;
        for (int i = 0; i < input; i++) ranges[i + 1] += ranges[i];
        return ranges;
    }

    // Sums in output order, as torch's scatter does, and as the CUDA kernel does.
    private static unsafe void RunNearestBackwardCpu(Tensor gradOutput, Tensor dx, int[] ranges, Geometry g)
    {
        float* grad = (float*)gradOutput.Pointer, result = (float*)dx.Pointer;
        CpuThreads.For(g.Planes * g.H, (start, end) =>
        {
            var cols = ranges.AsSpan(g.H + 1);
            for (int row = start; row < end; row++)
            {
                int iy = row % g.H;
                float* src = grad + (long)(row / g.H) * g.OutH * g.OutW;
                float* dst = result + (long)row * g.W;
                for (int ix = 0; ix < g.W; ix++)
                {
                    float sum = 0f;
                    for (int oy = ranges[iy]; oy < ranges[iy + 1]; oy++)
                    {
                        for (int ox = cols[ix]; ox < cols[ix + 1]; ox++) sum += src[oy * g.OutW + ox];
                    }
                    dst[ix] = sum;
                }
            }
        });
    }

    private static unsafe void LaunchNearestBackward(Tensor gradOutput, Tensor dx, int[] ranges, Geometry g)
    {
        var gpu = dx.Device.Gpu;
        using var rangesOnHost = Tensor.FromArray(ranges, ranges.Length);
        using var rangesOnDevice = rangesOnHost.To(dx.Device);
        nint grad = gradOutput.Pointer, rangesPtr = rangesOnDevice.Pointer, result = dx.Pointer;
        long planes = g.Planes;
        int h = g.H, w = g.W, oh = g.OutH, ow = g.OutW;
        void** args = stackalloc void*[] { &grad, &rangesPtr, &result, &planes, &h, &w, &oh, &ow };
        gpu.Launch(gpu.GetKernel(Source, "resize_nearest_backward_f32"), Dim3.Cover(dx.Numel, 256), new Dim3(256), 0, args, 8);
    }

    private readonly record struct Tap(int I0, int I1, float Lambda1);

    private static Tap LinearTap(int dst, int input, float scale, bool alignCorners)
    {
        float s = alignCorners ? scale * dst : scale * (dst + 0.5f) - 0.5f;
        if (s < 0f) s = 0f;
        int a = Math.Min((int)s, input - 1);
        return new Tap(a, a < input - 1 ? a + 1 : a, Math.Clamp(s - a, 0f, 1f));
    }

    private static unsafe void RunCpu(Tensor x, Tensor y, Geometry g)
    {
        float* input = (float*)x.Pointer, output = (float*)y.Pointer;
        if (g.AlignCorners is bool align)
        {
            var rows = new Tap[g.OutH];
            var cols = new Tap[g.OutW];
            for (int i = 0; i < g.OutH; i++) rows[i] = LinearTap(i, g.H, g.ScaleH, align);
            for (int i = 0; i < g.OutW; i++) cols[i] = LinearTap(i, g.W, g.ScaleW, align);
            CpuThreads.For(g.Planes * g.OutH, (start, end) =>
            {
                for (int row = start; row < end; row++)
                {
                    var r = rows[row % g.OutH];
                    float* p = input + (long)(row / g.OutH) * g.H * g.W;
                    float* top = p + (long)r.I0 * g.W, bottom = p + (long)r.I1 * g.W;
                    float* dst = output + (long)row * g.OutW;
                    float hy = 1f - r.Lambda1;
                    for (int ox = 0; ox < cols.Length; ox++)
                    {
                        var c = cols[ox];
                        float hx = 1f - c.Lambda1;
                        dst[ox] = hy * (hx * top[c.I0] + c.Lambda1 * top[c.I1]) + r.Lambda1 * (hx * bottom[c.I0] + c.Lambda1 * bottom[c.I1]);
                    }
                }
            });
            return;
        }
        var sourceRows = new int[g.OutH];
        var sourceCols = new int[g.OutW];
        for (int i = 0; i < g.OutH; i++) sourceRows[i] = NearestSource(i, g.H, g.ScaleH);
        for (int i = 0; i < g.OutW; i++) sourceCols[i] = NearestSource(i, g.W, g.ScaleW);
        CpuThreads.For(g.Planes * g.OutH, (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                float* src = input + (long)(row / g.OutH) * g.H * g.W + (long)sourceRows[row % g.OutH] * g.W;
                float* dst = output + (long)row * g.OutW;
                for (int ox = 0; ox < g.OutW; ox++) dst[ox] = src[sourceCols[ox]];
            }
        });
    }

    private static unsafe void Launch(Tensor x, Tensor y, Geometry g)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, output = y.Pointer;
        long planes = g.Planes;
        int h = g.H, w = g.W, oh = g.OutH, ow = g.OutW, align = g.AlignCorners == true ? 1 : 0;
        float scaleH = g.ScaleH, scaleW = g.ScaleW;
        void** args = stackalloc void*[] { &input, &output, &planes, &h, &w, &oh, &ow, &scaleH, &scaleW, &align };
        string entry = g.AlignCorners is null ? "resize_nearest_f32" : "resize_bilinear_f32";
        gpu.Launch(gpu.GetKernel(Source, entry), Dim3.Cover(y.Numel, 256), new Dim3(256), 0, args, g.AlignCorners is null ? 9 : 10);
    }
}
