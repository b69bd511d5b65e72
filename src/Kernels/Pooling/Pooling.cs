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
        Check.DType(x, DType.Float32, Op, "input");
        Check.Rank(x, 4, Op, "input");
        Check.That(kernel > 0 && stride > 0, Op, $"kernel {kernel} and stride {stride} must be positive (input {x.Shape})");
        Check.That(padding >= 0 && padding <= kernel / 2, Op, $"padding {padding} must be in [0, kernel/2 = {kernel / 2}] (input {x.Shape})");
        int h = x.Shape[2], w = x.Shape[3];
        int oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
        Check.That(h + 2 * padding >= kernel && w + 2 * padding >= kernel, Op,
            $"kernel {kernel} with padding {padding} does not fit input {x.Shape}");
        var y = Tensor.Empty(new Shape(x.Shape[0], x.Shape[1], oh, ow), DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        var g = new Geometry(x.Shape[0] * x.Shape[1], h, w, oh, ow, kernel, stride, padding);
        if (x.Device.IsCpu) RunCpu(x, y, g);
        else Launch(x, y, g);
        return y;
    }

    private readonly record struct Geometry(int Planes, int H, int W, int OutH, int OutW, int Kernel, int Stride, int Pad);

    private static unsafe void RunCpu(Tensor x, Tensor y, Geometry g)
    {
        float* input = (float*)x.Pointer, output = (float*)y.Pointer;
        CpuThreads.For(g.Planes * g.OutH, (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int plane = row / g.OutH, oy = row % g.OutH;
                float* src = input + (long)plane * g.H * g.W;
                float* dst = output + (long)row * g.OutW;
                int y0 = Math.Max(oy * g.Stride - g.Pad, 0), y1 = Math.Min(oy * g.Stride - g.Pad + g.Kernel, g.H);
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int x0 = Math.Max(ox * g.Stride - g.Pad, 0), x1 = Math.Min(ox * g.Stride - g.Pad + g.Kernel, g.W);
                    float m = float.NegativeInfinity;
                    for (int yy = y0; yy < y1; yy++)
                    {
                        for (int xx = x0; xx < x1; xx++)
                        {
                            float v = src[yy * g.W + xx];
                            if (v > m || float.IsNaN(v)) m = v;
                        }
                    }
                    dst[ox] = m;
                }
            }
        });
    }

    private static unsafe void Launch(Tensor x, Tensor y, Geometry g)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, output = y.Pointer;
        long planes = g.Planes;
        int h = g.H, w = g.W, oh = g.OutH, ow = g.OutW, kernel = g.Kernel, stride = g.Stride, pad = g.Pad;
        void** args = stackalloc void*[] { &input, &output, &planes, &h, &w, &oh, &ow, &kernel, &stride, &pad };
        gpu.Launch(gpu.GetKernel(Source, "max_pool2d_f32"), Dim3.Cover(y.Numel, 256), new Dim3(256), 0, args, 10);
    }
}
