using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

public static partial class Resize
{
    /// <summary>
    /// Gradient of <see cref="Bilinear"/> with respect to its (N, C, inH, inW) input: each input pixel receives the
    /// gradients of the outputs that sampled it, weighted by the bilinear weight it had in them (both taps' weights
    /// where an edge clamps them onto the same pixel, as torch's scatter adds them).
    /// </summary>
    public static Tensor BilinearBackward(Tensor gradOutput, int inH, int inW, bool alignCorners)
    {
        const string op = "resize_bilinear_backward";
        ValidateBackward(gradOutput, inH, inW, op);
        int outH = gradOutput.Shape[2], outW = gradOutput.Shape[3];
        var dx = Tensor.Empty(new Shape(gradOutput.Shape[0], gradOutput.Shape[1], inH, inW), DType.Float32, gradOutput.Device);
        if (dx.Numel == 0) return dx;
        var rows = AxisTaps.Of(inH, outH, LinearScale(inH, outH, null, alignCorners), alignCorners);
        var cols = AxisTaps.Of(inW, outW, LinearScale(inW, outW, null, alignCorners), alignCorners);
        var g = new Geometry(dx.Shape[0] * dx.Shape[1], inH, inW, outH, outW, 0f, 0f, alignCorners);
        if (dx.Device.IsCpu) RunBilinearBackwardCpu(gradOutput, dx, rows, cols, g);
        else LaunchBilinearBackward(gradOutput, dx, rows, cols, g);
        return dx;
    }

    /// <summary>One axis of a bilinear resize: each output's two taps and weights, and the outputs [Lo[i], Hi[i]) that read input i.</summary>
    private sealed record AxisTaps(int[] Lo, int[] Hi, int[] I0, int[] I1, float[] W0, float[] W1)
    {
        public static AxisTaps Of(int input, int output, float scale, bool alignCorners)
        {
            var taps = new AxisTaps(new int[input], new int[input], new int[output], new int[output], new float[output], new float[output]);
            Array.Fill(taps.Lo, output);
            for (int o = 0; o < output; o++)
            {
                var t = LinearTap(o, input, scale, alignCorners);
                taps.I0[o] = t.I0;
                taps.I1[o] = t.I1;
                taps.W0[o] = 1f - t.Lambda1;
                taps.W1[o] = t.Lambda1;
                foreach (int i in (ReadOnlySpan<int>)[t.I0, t.I1])
                {
                    taps.Lo[i] = Math.Min(taps.Lo[i], o);
                    taps.Hi[i] = Math.Max(taps.Hi[i], o + 1);
                }
            }
            return taps;
        }

        /// <summary>Weight of input <paramref name="i"/> in output <paramref name="o"/>.</summary>
        public float Weight(int o, int i) => (I0[o] == i ? W0[o] : 0f) + (I1[o] == i ? W1[o] : 0f);
    }

    // Same order of additions as the CUDA kernel: a row's weighted sum, then weighted into the total.
    private static unsafe void RunBilinearBackwardCpu(Tensor gradOutput, Tensor dx, AxisTaps rows, AxisTaps cols, Geometry g)
    {
        float* grad = (float*)gradOutput.Pointer, result = (float*)dx.Pointer;
        CpuThreads.For(g.Planes * g.H, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int iy = r % g.H;
                float* src = grad + (long)(r / g.H) * g.OutH * g.OutW;
                float* dst = result + (long)r * g.W;
                for (int ix = 0; ix < g.W; ix++)
                {
                    float sum = 0f;
                    for (int oy = rows.Lo[iy]; oy < rows.Hi[iy]; oy++)
                    {
                        float row = 0f;
                        for (int ox = cols.Lo[ix]; ox < cols.Hi[ix]; ox++) row += cols.Weight(ox, ix) * src[oy * g.OutW + ox];
                        sum += rows.Weight(oy, iy) * row;
                    }
                    dst[ix] = sum;
                }
            }
        });
    }

    private static unsafe void LaunchBilinearBackward(Tensor gradOutput, Tensor dx, AxisTaps rows, AxisTaps cols, Geometry g)
    {
        var gpu = dx.Device.Gpu;
        int[] taps = [.. rows.Lo, .. rows.Hi, .. cols.Lo, .. cols.Hi, .. rows.I0, .. rows.I1, .. cols.I0, .. cols.I1];
        float[] weights = [.. rows.W0, .. rows.W1, .. cols.W0, .. cols.W1];
        using var tapsOnHost = Tensor.FromArray(taps, taps.Length);
        using var weightsOnHost = Tensor.FromArray(weights, weights.Length);
        using var tapsOnDevice = tapsOnHost.To(dx.Device);
        using var weightsOnDevice = weightsOnHost.To(dx.Device);
        nint grad = gradOutput.Pointer, tapsPtr = tapsOnDevice.Pointer, weightsPtr = weightsOnDevice.Pointer, result = dx.Pointer;
        long planes = g.Planes;
        int h = g.H, w = g.W, oh = g.OutH, ow = g.OutW;
        void** args = stackalloc void*[] { &grad, &tapsPtr, &weightsPtr, &result, &planes, &h, &w, &oh, &ow };
        gpu.Launch(gpu.GetKernel(Source, "resize_bilinear_backward_f32"), Dim3.Cover(dx.Numel, 256), new Dim3(256), 0, args, 9);
    }
}
