using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// Gradients of <see cref="Conv2d.Forward(Tensor, Tensor, Tensor?, Conv2dParams)"/>, blocked like the
/// forward im2col path. dx: per group a GEMM Wᵀ·dy gives each (c, r, s) tap's contribution, col2im adds
/// them into dx. dW: per group dy·colᵀ summed over images and blocks. CUDA: cuDNN when the runtime has
/// it, else the same with our kernels and the device GEMM. A fused ReLU is rejected: the caller masks
/// the upstream gradient with the ReLU first, so these see the gradient of the convolution alone.
/// </summary>
public static partial class Conv2d
{
    /// <summary>Gradient of the loss with respect to the input [N, C, H, W] of shape <paramref name="inputShape"/>.</summary>
    public static Tensor BackwardInput(Tensor gradOutput, Tensor weight, Conv2dParams p, Shape inputShape) =>
        BackwardInput(gradOutput, weight, p, inputShape, gradOutput.Device.IsCpu ? CpuColumnBudgetBytes : CudaColumnBudgetBytes);

    /// <summary>Gradient of the loss with respect to the weight [K, C / groups, R, S] of shape <paramref name="weightShape"/>.</summary>
    public static Tensor BackwardWeight(Tensor x, Tensor gradOutput, Conv2dParams p, Shape weightShape) =>
        BackwardWeight(x, gradOutput, p, weightShape, x.Device.IsCpu ? CpuColumnBudgetBytes : CudaColumnBudgetBytes);

    /// <summary>Gradient of the loss with respect to the bias: gradOutput [N, K, P, Q] summed over N, P and Q.</summary>
    public static Tensor BackwardBias(Tensor gradOutput)
    {
        Check.Rank(gradOutput, 4, Op, "gradOutput");
        Check.DType(gradOutput, DType.Float32, Op, "gradOutput");
        return BiasGradient.ChannelSums(gradOutput, gradOutput.Shape[1], (long)gradOutput.Shape[2] * gradOutput.Shape[3]);
    }

    internal static Tensor BackwardInput(Tensor gradOutput, Tensor weight, Conv2dParams p, Shape inputShape, long columnBudgetBytes)
    {
        Check.Rank(weight, 4, Op, "weight");
        Check.DType(weight, DType.Float32, Op, "weight");
        var g = BackwardGeometry(gradOutput, weight, inputShape, weight.Shape, p);
        var dx = Tensor.Empty(inputShape, DType.Float32, weight.Device);
        if (dx.Numel == 0) return dx;
        if (gradOutput.Numel == 0)
        {
            dx.Fill(0);
            return dx;
        }
        var plan = new Plan(g, columnBudgetBytes);
        if (dx.Device.IsCpu) BackwardInputCpu(plan, gradOutput, weight, dx);
        else BackwardInputCuda(plan, gradOutput, weight, dx);
        return dx;
    }

    internal static Tensor BackwardWeight(Tensor x, Tensor gradOutput, Conv2dParams p, Shape weightShape, long columnBudgetBytes)
    {
        Check.Rank(x, 4, Op, "input");
        Check.DType(x, DType.Float32, Op, "input");
        var g = BackwardGeometry(gradOutput, x, x.Shape, weightShape, p);
        var dw = Tensor.Empty(weightShape, DType.Float32, x.Device);
        if (dw.Numel == 0) return dw;
        if (gradOutput.Numel == 0)
        {
            dw.Fill(0);
            return dw;
        }
        var plan = new Plan(g, columnBudgetBytes);
        if (dw.Device.IsCpu) BackwardWeightCpu(plan, x, gradOutput, dw);
        else BackwardWeightCuda(plan, x, gradOutput, dw);
        return dw;
    }

    /// <summary>Checks gradOutput against the forward geometry of the input and weight shapes; <paramref name="other"/> is the tensor operand.</summary>
    private static Conv2dGeometry BackwardGeometry(Tensor gradOutput, Tensor other, Shape input, Shape weight, Conv2dParams p)
    {
        Check.Rank(gradOutput, 4, Op, "gradOutput");
        Check.DType(gradOutput, DType.Float32, Op, "gradOutput");
        Check.SameDevice(Op, gradOutput, other);
        Check.That(!p.FuseRelu, Op,
            "backward takes no fused ReLU: mask gradOutput with the forward output's ReLU first, then pass the parameters with FuseRelu = false");
        CheckHyperParameters(Op, p.Groups, p.Stride, p.Padding, p.Dilation);
        Check.That(input.Rank == 4, Op, $"input shape must have 4 dimensions, got {input}");
        Check.That(weight.Rank == 4, Op, $"weight shape must have 4 dimensions, got {weight}");
        var g = Geometry(input, weight, p);
        var expected = new Shape(g.N, g.K, g.OutH, g.OutW);
        Check.That(gradOutput.Shape == expected, Op, $"gradOutput {gradOutput.Shape} must be {expected}, the output of input {input} and weight {weight}");
        return g;
    }

    private static unsafe void BackwardInputCpu(in Plan plan, Tensor dy, Tensor weight, Tensor dx)
    {
        var g = plan.G;
        int kg = g.K / g.Groups, kdim = plan.GemmK;
        long pq = (long)g.OutH * g.OutW, hw = (long)g.H * g.W;
        using var column = plan.Direct ? null : Tensor.Empty(new Shape(checked((int)plan.ColumnFloatsPerImage)), DType.Float32, Device.Cpu);
        float* dyp = (float*)dy.Pointer, wp = (float*)weight.Pointer, dxp = (float*)dx.Pointer;
        float* colp = column is null ? null : (float*)column.Pointer;
        // Blocks of output rows reach overlapping input rows, so col2im adds into dx.
        if (!plan.Direct) dx.Fill(0);
        for (int n = 0; n < g.N; n++)
        {
            for (int p0 = 0; p0 < g.OutH; p0 += plan.RowsPerBlock)
            {
                int rows = Math.Min(plan.RowsPerBlock, g.OutH - p0);
                int cols = rows * g.OutW;
                float* dyBlock = dyp + n * g.K * pq + (long)p0 * g.OutW;
                float* image = dxp + n * g.C * hw;
                float* c = plan.Direct ? image : colp;
                long ldc = plan.Direct ? hw : cols;
                for (int group = 0; group < g.Groups; group++)
                {
                    OpenBlas.Sgemm(true, false, kdim, cols, kg, 1f, wp + (long)group * kg * kdim, kdim,
                        dyBlock + group * kg * pq, checked((int)pq), 0f, c + group * kdim * ldc, checked((int)ldc));
                }
                if (!plan.Direct) Col2ImCpu(g, colp, image, p0, rows);
            }
        }
    }

    /// <summary>
    /// Adds column rows (c, r, s) of output rows [p0, p0 + rows) back into the image they were read
    /// from. Threads split the channels, so no two write the same element.
    /// </summary>
    private static unsafe void Col2ImCpu(Conv2dGeometry g, float* col, float* x, int p0, int rows)
    {
        int q = g.OutW, cols = rows * q;
        long hw = (long)g.H * g.W;
        CpuThreads.For(g.C, (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                for (int r = 0; r < g.R; r++)
                {
                    for (int s = 0; s < g.S; s++)
                    {
                        float* src = col + ((long)(c * g.R + r) * g.S + s) * cols;
                        int offsetW = s * g.DilationW - g.PadW;
                        var (qBegin, qEnd) = InsideColumns(g, s);
                        for (int pi = 0; pi < rows; pi++, src += q)
                        {
                            int ih = (p0 + pi) * g.StrideH - g.PadH + r * g.DilationH;
                            if (ih < 0 || ih >= g.H || qEnd == qBegin) continue;
                            float* dstRow = x + c * hw + (long)ih * g.W + offsetW;
                            if (g.StrideW == 1)
                            {
                                var dst = new Span<float>(dstRow + qBegin, qEnd - qBegin);
                                TensorPrimitives.Add(dst, new ReadOnlySpan<float>(src + qBegin, qEnd - qBegin), dst);
                            }
                            else
                            {
                                for (int qi = qBegin; qi < qEnd; qi++) dstRow[qi * g.StrideW] += src[qi];
                            }
                        }
                    }
                }
            }
        });
    }

    private static unsafe void BackwardWeightCpu(in Plan plan, Tensor x, Tensor dy, Tensor dw)
    {
        var g = plan.G;
        int kg = g.K / g.Groups, kdim = plan.GemmK;
        long pq = (long)g.OutH * g.OutW, hw = (long)g.H * g.W;
        using var column = plan.Direct ? null : Tensor.Empty(new Shape(checked((int)plan.ColumnFloatsPerImage)), DType.Float32, Device.Cpu);
        float* xp = (float*)x.Pointer, dyp = (float*)dy.Pointer, dwp = (float*)dw.Pointer;
        float* colp = column is null ? null : (float*)column.Pointer;
        dw.Fill(0);
        for (int n = 0; n < g.N; n++)
        {
            for (int p0 = 0; p0 < g.OutH; p0 += plan.RowsPerBlock)
            {
                int rows = Math.Min(plan.RowsPerBlock, g.OutH - p0);
                int cols = rows * g.OutW;
                var (b, ldb) = ColumnsCpu(plan, xp + n * g.C * hw, colp, p0, rows);
                float* dyBlock = dyp + n * g.K * pq + (long)p0 * g.OutW;
                for (int group = 0; group < g.Groups; group++)
                {
                    OpenBlas.Sgemm(false, true, kg, kdim, cols, 1f, dyBlock + group * kg * pq, checked((int)pq),
                        (float*)b + group * kdim * ldb, checked((int)ldb), 1f, dwp + (long)group * kg * kdim, kdim);
                }
            }
        }
    }

    private static unsafe void BackwardInputCuda(in Plan plan, Tensor dy, Tensor weight, Tensor dx)
    {
        var g = plan.G;
        var gpu = dx.Device.Gpu;
        if (gpu.Convolution is { } vendor)
        {
            vendor.BackwardData(g, dy.Pointer, weight.Pointer, dx.Pointer);
            return;
        }
        int kg = g.K / g.Groups, kdim = plan.GemmK;
        long pq = (long)g.OutH * g.OutW, hw = (long)g.H * g.W;
        using var column = plan.Direct ? null : Tensor.Empty(new Shape(checked((int)(plan.ColumnFloatsPerImage * plan.ImagesPerBlock))), DType.Float32, dx.Device);
        var col2im = plan.Direct ? null : gpu.GetKernel(Source, "conv2d_col2im_f32");
        if (!plan.Direct) dx.Fill(0);
        for (int n0 = 0; n0 < g.N; n0 += plan.ImagesPerBlock)
        {
            int images = Math.Min(plan.ImagesPerBlock, g.N - n0);
            nint image = dx.Pointer + (nint)(n0 * g.C * hw * sizeof(float));
            for (int p0 = 0; p0 < g.OutH; p0 += plan.RowsPerBlock)
            {
                int rows = Math.Min(plan.RowsPerBlock, g.OutH - p0);
                int cols = rows * g.OutW;
                nint dyBlock = dy.Pointer + (nint)((n0 * g.K * pq + (long)p0 * g.OutW) * sizeof(float));
                nint c = plan.Direct ? image : column!.Pointer;
                long ldc = plan.Direct ? hw : cols, imageStride = plan.Direct ? g.C * hw : (long)g.C * g.R * g.S * cols;
                for (int group = 0; group < g.Groups; group++)
                {
                    gpu.Blas.SgemmStridedBatched(true, false, kdim, cols, kg, 1f,
                        weight.Pointer + (nint)((long)group * kg * kdim * sizeof(float)), kdim, 0,
                        dyBlock + (nint)(group * kg * pq * sizeof(float)), checked((int)pq), g.K * pq, 0f,
                        c + (nint)(group * kdim * ldc * sizeof(float)), checked((int)ldc), imageStride, images);
                }
                if (!plan.Direct) LaunchCol2Im(gpu, col2im!, g, column!.Pointer, image, images, p0, rows);
            }
        }
    }

    /// <summary>Launches conv2d_col2im_f32 over the input rows that output rows [p0, p0 + rows) reach.</summary>
    private static unsafe void LaunchCol2Im(IDeviceRuntime gpu, IKernel kernel, Conv2dGeometry g, nint col, nint x, int images, int p0, int rows)
    {
        int ih0 = Math.Max(0, p0 * g.StrideH - g.PadH);
        int ihEnd = Math.Min(g.H, (p0 + rows - 1) * g.StrideH - g.PadH + (g.R - 1) * g.DilationH + 1);
        int inRows = ihEnd - ih0;
        if (inRows <= 0) return;
        int c = g.C, h = g.H, w = g.W, r = g.R, s = g.S, sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW;
        int dh = g.DilationH, dw = g.DilationW, q = g.OutW;
        void** args = stackalloc void*[] { &col, &x, &images, &c, &h, &w, &r, &s, &sh, &sw, &ph, &pw, &dh, &dw, &q, &p0, &rows, &ih0, &inRows };
        gpu.Launch(kernel, Dim3.Cover((long)images * c * inRows * w, 256), new Dim3(256), 0, args, 19);
    }

    private static void BackwardWeightCuda(in Plan plan, Tensor x, Tensor dy, Tensor dw)
    {
        var g = plan.G;
        var gpu = dw.Device.Gpu;
        if (gpu.Convolution is { } vendor)
        {
            vendor.BackwardFilter(g, x.Pointer, dy.Pointer, dw.Pointer);
            return;
        }
        int kg = g.K / g.Groups, kdim = plan.GemmK;
        long pq = (long)g.OutH * g.OutW;
        using var column = plan.Direct ? null : Tensor.Empty(new Shape(checked((int)(plan.ColumnFloatsPerImage * plan.ImagesPerBlock))), DType.Float32, dw.Device);
        var im2col = plan.Direct ? null : gpu.GetKernel(Source, "conv2d_im2col_f32");
        dw.Fill(0);
        for (int n0 = 0; n0 < g.N; n0 += plan.ImagesPerBlock)
        {
            int images = Math.Min(plan.ImagesPerBlock, g.N - n0);
            for (int p0 = 0; p0 < g.OutH; p0 += plan.RowsPerBlock)
            {
                int rows = Math.Min(plan.RowsPerBlock, g.OutH - p0);
                int cols = rows * g.OutW;
                var (b, ldb, imageStride) = ColumnsCuda(plan, gpu, im2col, x, column, n0, images, p0, rows);
                // A batched GEMM writes one product per image; dW needs their sum, so images go one by one.
                for (int i = 0; i < images; i++)
                {
                    nint dyBlock = dy.Pointer + (nint)(((n0 + i) * g.K * pq + (long)p0 * g.OutW) * sizeof(float));
                    nint columns = b + (nint)(i * imageStride * sizeof(float));
                    for (int group = 0; group < g.Groups; group++)
                    {
                        gpu.Blas.Sgemm(false, true, kg, kdim, cols, 1f, dyBlock + (nint)(group * kg * pq * sizeof(float)), checked((int)pq),
                            columns + (nint)(group * kdim * ldb * sizeof(float)), checked((int)ldb), 1f,
                            dw.Pointer + (nint)((long)group * kg * kdim * sizeof(float)), kdim);
                    }
                }
            }
        }
    }
}
