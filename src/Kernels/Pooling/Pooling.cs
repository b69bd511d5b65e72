using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Pooling;

/// <summary>
/// 2-D max pooling over (N, C, H, W) float32 with a square window, as torch's max_pool2d with
/// ceil_mode=False and dilation 1 (FPN's P6 is kernel 1, stride 2).
/// </summary>
public static class MaxPool
{
    private const string Op = "max_pool2d";

    private static KernelSource Source => KernelCatalog.Get("Pooling/Pooling.cu");

    public static Tensor Forward2d(Tensor x, int kernel, int stride, int padding = 0)
    {
        var g = Plan(x, kernel, stride, padding, Op);
        var y = Tensor.Empty(new Shape(x.Shape[0], x.Shape[1], g.OutH, g.OutW), DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        if (x.Device.IsCpu) RunCpu(x, y, g);
        else Launch(x.Device, g, "max_pool2d_f32", [x.Pointer, y.Pointer], y.Numel);
        return y;
    }

    /// <summary>
    /// Gradient of <see cref="Forward2d"/> with respect to x: each output's gradient goes to the first
    /// maximum of its window in scan order (torch's CPU tie rule; a NaN wins as in the forward), summed
    /// where windows overlap.
    /// </summary>
    /// <remarks>
    /// The argmax is recomputed from x rather than kept by the forward: inference, the common caller,
    /// then never pays for an indices tensor, and rescanning a k×k window costs about what reading a
    /// stored index would.
    /// </remarks>
    public static Tensor Backward2d(Tensor gradOutput, Tensor x, int kernel, int stride, int padding = 0)
    {
        const string op = "max_pool2d_backward";
        var g = Plan(x, kernel, stride, padding, op);
        Check.DType(gradOutput, DType.Float32, op, "gradOutput");
        var outShape = new Shape(x.Shape[0], x.Shape[1], g.OutH, g.OutW);
        Check.That(gradOutput.Shape == outShape, op, $"gradOutput {gradOutput.Shape} must be {outShape}, the output of input {x.Shape}");
        Check.SameDevice(op, gradOutput, x);
        var dx = Tensor.Zeros(x.Shape, DType.Float32, x.Device);
        if (dx.Numel == 0 || gradOutput.Numel == 0) return dx;
        if (x.Device.IsCpu) RunBackwardCpu(gradOutput, x, dx, g);
        else Launch(x.Device, g, "max_pool2d_backward_f32", [x.Pointer, gradOutput.Pointer, dx.Pointer], dx.Numel);
        return dx;
    }

    private readonly record struct Geometry(int Planes, int H, int W, int OutH, int OutW, int Kernel, int Stride, int Pad);

    private static Geometry Plan(Tensor x, int kernel, int stride, int padding, string op)
    {
        Check.DType(x, DType.Float32, op, "input");
        Check.Rank(x, 4, op, "input");
        Check.That(kernel > 0 && stride > 0, op, $"kernel {kernel} and stride {stride} must be positive (input {x.Shape})");
        Check.That(padding >= 0 && padding <= kernel / 2, op, $"padding {padding} must be in [0, kernel/2 = {kernel / 2}] (input {x.Shape})");
        int h = x.Shape[2], w = x.Shape[3];
        Check.That(h + 2 * padding >= kernel && w + 2 * padding >= kernel, op,
            $"kernel {kernel} with padding {padding} does not fit input {x.Shape}");
        int oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
        return new Geometry(x.Shape[0] * x.Shape[1], h, w, oh, ow, kernel, stride, padding);
    }

    // The window clipped to the input (padding never wins); starts at the first in-bounds element as
    // torch's maxindex does, so a window of -inf picks its first element.
    private static unsafe int ArgMax(float* plane, in Geometry g, int oy, int ox)
    {
        int y0 = Math.Max(oy * g.Stride - g.Pad, 0), y1 = Math.Min(oy * g.Stride - g.Pad + g.Kernel, g.H);
        int x0 = Math.Max(ox * g.Stride - g.Pad, 0), x1 = Math.Min(ox * g.Stride - g.Pad + g.Kernel, g.W);
        int best = y0 * g.W + x0;
        float m = float.NegativeInfinity;
        for (int yy = y0; yy < y1; yy++)
        {
            for (int xx = x0; xx < x1; xx++)
            {
                float v = plane[yy * g.W + xx];
                if (v > m || float.IsNaN(v))
                {
                    m = v;
                    best = yy * g.W + xx;
                }
            }
        }
        return best;
    }

    private static unsafe void RunCpu(Tensor x, Tensor y, Geometry g)
    {
        float* input = (float*)x.Pointer, output = (float*)y.Pointer;
        CpuThreads.For(g.Planes * g.OutH, (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int oy = row % g.OutH;
                float* src = input + (long)(row / g.OutH) * g.H * g.W;
                float* dst = output + (long)row * g.OutW;
                for (int ox = 0; ox < g.OutW; ox++) dst[ox] = src[ArgMax(src, g, oy, ox)];
            }
        });
    }

    // Scatters in output order per plane, the order torch's backward adds in and the CUDA gather
    // reproduces, so overlapping windows sum identically everywhere.
    private static unsafe void RunBackwardCpu(Tensor gradOutput, Tensor x, Tensor dx, Geometry g)
    {
        float* input = (float*)x.Pointer, grad = (float*)gradOutput.Pointer, result = (float*)dx.Pointer;
        CpuThreads.For(g.Planes, (start, end) =>
        {
            for (int plane = start; plane < end; plane++)
            {
                float* src = input + (long)plane * g.H * g.W, dst = result + (long)plane * g.H * g.W;
                float* gy = grad + (long)plane * g.OutH * g.OutW;
                for (int oy = 0; oy < g.OutH; oy++)
                {
                    for (int ox = 0; ox < g.OutW; ox++) dst[ArgMax(src, g, oy, ox)] += gy[oy * g.OutW + ox];
                }
            }
        });
    }

    /// <summary>Launches entry(buffers…, planes, h, w, oh, ow, kernel, stride, pad) with one thread per element of [0, n).</summary>
    private static unsafe void Launch(Device device, Geometry g, string entry, ReadOnlySpan<nint> buffers, long n)
    {
        var gpu = device.Gpu;
        long planes = g.Planes;
        int h = g.H, w = g.W, oh = g.OutH, ow = g.OutW, kernel = g.Kernel, stride = g.Stride, pad = g.Pad;
        nint* pointers = stackalloc nint[buffers.Length];
        void** args = stackalloc void*[buffers.Length + 8];
        for (int i = 0; i < buffers.Length; i++)
        {
            pointers[i] = buffers[i];
            args[i] = &pointers[i];
        }
        void** geometry = args + buffers.Length;
        geometry[0] = &planes;
        geometry[1] = &h;
        geometry[2] = &w;
        geometry[3] = &oh;
        geometry[4] = &ow;
        geometry[5] = &kernel;
        geometry[6] = &stride;
        geometry[7] = &pad;
        gpu.Launch(gpu.GetKernel(Source, entry), Dim3.Cover(n, 256), new Dim3(256), 0, args, buffers.Length + 8);
    }
}
