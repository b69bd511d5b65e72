using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;

namespace NativeSeg.Kernels.DeformConv2d;

/// <summary>Hyper-parameters of a deformable convolution: an ordinary convolution's, plus the deformable groups.</summary>
public sealed record DeformConv2dParams
{
    public static DeformConv2dParams Default { get; } = new();

    /// <summary>Stride, padding, dilation, weight groups and fused ReLU, as for <see cref="Conv2d"/>.</summary>
    public Conv2dParams Convolution { get; init; } = Conv2dParams.Default;

    /// <summary>Deformable groups: each owns C / OffsetGroups consecutive input channels and its own offsets and masks.</summary>
    public int OffsetGroups { get; init; } = 1;
}

/// <summary>
/// Modulated deformable convolution (DCNv2; DCNv1 without a mask) with the semantics of
/// <c>torchvision.ops.deform_conv2d</c>: input [N, C, H, W], offsets [N, 2·G·R·S, P, Q] ((dy, dx) per tap),
/// masks [N, G·R·S, P, Q], weight [K, C / groups, R, S]. Each block of output rows is sampled into a column
/// matrix (bilinear, zero outside the map) and multiplied by the weight, so memory stays bounded by the
/// column budget however large the image: OpenBLAS on the CPU, our sampling kernel and cuBLAS on CUDA.
/// </summary>
public static class DeformConv2d
{
    private const string Op = "deform_conv2d";

    /// <summary>Largest column block; as conv2d's, large enough that each GEMM runs at full speed.</summary>
    internal const long CpuColumnBudgetBytes = 32L << 20;

    internal const long CudaColumnBudgetBytes = 256L << 20;

    private static KernelSource Source => KernelCatalog.Get("DeformConv2d/DeformConv2d.cu");

    /// <summary>Counted by <see cref="FlopCount"/> as the convolution's multiply-adds; the bilinear sampling is not a GEMM's work.</summary>
    public static Tensor Forward(Tensor x, Tensor offset, Tensor? mask, Tensor weight, Tensor? bias, DeformConv2dParams p)
    {
        var y = Forward(x, offset, mask, weight, bias, p, x.Device.IsCpu ? CpuColumnBudgetBytes : CudaColumnBudgetBytes);
        FlopCount.AddMultiplyAdds(Conv2d.Geometry(x.Shape, weight.Shape, p.Convolution).Macs);
        return y;
    }

    /// <param name="columnBudgetBytes">The column block's size bound; the tests shrink it to cover several blocks.</param>
    internal static Tensor Forward(Tensor x, Tensor offset, Tensor? mask, Tensor weight, Tensor? bias, DeformConv2dParams p, long columnBudgetBytes)
    {
        var g = Geometry(x, offset, mask, weight, bias, p);
        var y = Tensor.Empty(new Shape(g.N, g.K, g.OutH, g.OutW), DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        long perRow = (long)g.C * g.R * g.S * g.OutW * sizeof(float);
        int rowsPerBlock = (int)Math.Clamp(columnBudgetBytes / perRow, 1, g.OutH);
        using var column = Tensor.Empty(new Shape(checked((int)(perRow / sizeof(float) * rowsPerBlock))), DType.Float32, x.Device);
        if (x.Device.IsCpu) RunCpu(g, p.OffsetGroups, x, offset, mask, weight, bias, y, column, rowsPerBlock, p.Convolution.FuseRelu);
        else RunCuda(g, p.OffsetGroups, x, offset, mask, weight, bias, y, column, rowsPerBlock, p.Convolution.FuseRelu);
        return y;
    }

    private static Conv2dGeometry Geometry(Tensor x, Tensor offset, Tensor? mask, Tensor weight, Tensor? bias, DeformConv2dParams p)
    {
        var c = p.Convolution;
        Conv2d.CheckCommon(Op, x, weight, bias, c.Groups, c.Stride, c.Padding, c.Dilation);
        var g = Conv2d.Geometry(x.Shape, weight.Shape, c);
        if (bias is not null)
            Check.That(bias.DType == DType.Float32 && bias.Rank == 1 && bias.Shape[0] == g.K, Op, $"bias {bias.Shape} must be float32 [{g.K}]");
        Check.That(p.OffsetGroups >= 1 && g.C % p.OffsetGroups == 0, Op, $"{g.C} input channels do not divide into {p.OffsetGroups} offset groups");
        int taps = p.OffsetGroups * g.R * g.S;
        Check.DType(offset, DType.Float32, Op, "offset");
        Check.That(offset.Shape == new Shape(g.N, 2 * taps, g.OutH, g.OutW), Op,
            $"offset {offset.Shape} must be [{g.N}, {2 * taps}, {g.OutH}, {g.OutW}] (2 x {p.OffsetGroups} offset groups x {g.R}x{g.S} taps over the output)");
        if (mask is not null)
        {
            Check.DType(mask, DType.Float32, Op, "mask");
            Check.That(mask.Shape == new Shape(g.N, taps, g.OutH, g.OutW), Op, $"mask {mask.Shape} must be [{g.N}, {taps}, {g.OutH}, {g.OutW}]");
        }
        Check.SameDevice(Op, mask is null ? [x, offset] : [x, offset, mask]);
        return g;
    }

    private static unsafe void RunCpu(in Conv2dGeometry g, int offsetGroups, Tensor x, Tensor offset, Tensor? mask, Tensor weight, Tensor? bias,
        Tensor y, Tensor column, int rowsPerBlock, bool relu)
    {
        int kg = g.K / g.Groups, kdim = g.C / g.Groups * g.R * g.S;
        long pq = (long)g.OutH * g.OutW, hw = (long)g.H * g.W, taps = (long)offsetGroups * g.R * g.S;
        float* xp = (float*)x.Pointer, op = (float*)offset.Pointer, mp = mask is null ? null : (float*)mask.Pointer;
        float* wp = (float*)weight.Pointer, yp = (float*)y.Pointer, colp = (float*)column.Pointer;
        float* bp = bias is null ? null : (float*)bias.Pointer;
        for (int n = 0; n < g.N; n++)
        {
            for (int p0 = 0; p0 < g.OutH; p0 += rowsPerBlock)
            {
                int rows = Math.Min(rowsPerBlock, g.OutH - p0), cols = rows * g.OutW;
                SampleCpu(g, offsetGroups, xp + n * g.C * hw, op + n * 2 * taps * pq, mp is null ? null : mp + n * taps * pq, colp, p0, rows);
                float* yBlock = yp + n * g.K * pq + (long)p0 * g.OutW;
                for (int group = 0; group < g.Groups; group++)
                    OpenBlas.Sgemm(false, false, kg, cols, kdim, 1f, wp + (long)group * kg * kdim, kdim,
                        colp + (long)group * kdim * cols, cols, 0f, yBlock + group * kg * pq, checked((int)pq));
                BiasActivation.ChannelRows(yBlock, pq, cols, g.K, bp, relu);
            }
        }
    }

    /// <summary>The CPU twin of deform_conv2d_im2col_f32; threads split the (c, r, s) rows.</summary>
    private static unsafe void SampleCpu(Conv2dGeometry g, int offsetGroups, float* x, float* offset, float* mask, float* col, int p0, int rows)
    {
        int q = g.OutW, cols = rows * q, channelsPerGroup = g.C / offsetGroups;
        long pq = (long)g.OutH * g.OutW, hw = (long)g.H * g.W;
        CpuThreads.For(g.C * g.R * g.S, (start, end) =>
        {
            for (int tap = start; tap < end; tap++)
            {
                int s = tap % g.S, r = tap / g.S % g.R, c = tap / (g.R * g.S);
                long k = ((long)(c / channelsPerGroup) * g.R + r) * g.S + s;
                float* dy = offset + 2 * k * pq, dx = offset + (2 * k + 1) * pq, m = mask is null ? null : mask + k * pq;
                float* plane = x + c * hw, dst = col + (long)tap * cols;
                for (int pi = 0; pi < rows; pi++)
                {
                    int p = p0 + pi;
                    for (int qi = 0; qi < q; qi++)
                    {
                        long at = (long)p * q + qi;
                        float h = p * g.StrideH - g.PadH + r * g.DilationH + dy[at];
                        float w = qi * g.StrideW - g.PadW + s * g.DilationW + dx[at];
                        float v = Bilinear(plane, g.H, g.W, h, w);
                        dst[pi * q + qi] = m is null ? v : v * m[at];
                    }
                }
            }
        });
    }

    /// <summary>dcn_bilinear of the kernel.</summary>
    private static unsafe float Bilinear(float* plane, int height, int width, float h, float w)
    {
        if (h <= -1f || h >= height || w <= -1f || w >= width) return 0f;
        int h0 = (int)MathF.Floor(h), w0 = (int)MathF.Floor(w), h1 = h0 + 1, w1 = w0 + 1;
        float lh = h - h0, lw = w - w0, hh = 1f - lh, hw = 1f - lw;
        float v1 = h0 >= 0 && w0 >= 0 ? plane[(long)h0 * width + w0] : 0f;
        float v2 = h0 >= 0 && w1 <= width - 1 ? plane[(long)h0 * width + w1] : 0f;
        float v3 = h1 <= height - 1 && w0 >= 0 ? plane[(long)h1 * width + w0] : 0f;
        float v4 = h1 <= height - 1 && w1 <= width - 1 ? plane[(long)h1 * width + w1] : 0f;
        return hh * hw * v1 + hh * lw * v2 + lh * hw * v3 + lh * lw * v4;
    }

    private static unsafe void RunCuda(in Conv2dGeometry g, int offsetGroups, Tensor x, Tensor offset, Tensor? mask, Tensor weight, Tensor? bias,
        Tensor y, Tensor column, int rowsPerBlock, bool relu)
    {
        var gpu = x.Device.Gpu;
        var kernel = gpu.GetKernel(Source, "deform_conv2d_im2col_f32");
        int kg = g.K / g.Groups, kdim = g.C / g.Groups * g.R * g.S;
        long pq = (long)g.OutH * g.OutW, hw = (long)g.H * g.W, taps = (long)offsetGroups * g.R * g.S;
        int c = g.C, h = g.H, w = g.W, r = g.R, s = g.S, sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW;
        int dh = g.DilationH, dw = g.DilationW, groups = offsetGroups, outH = g.OutH, outW = g.OutW;
        nint col = column.Pointer, xn = 0, on = 0, mn = 0;
        int p0 = 0, rows = 0;
        // The launch reads these locals' current values, so one argument array serves every block.
        void** args = stackalloc void*[] { &xn, &on, &mn, &col, &c, &h, &w, &r, &s, &sh, &sw, &ph, &pw, &dh, &dw, &groups, &outH, &outW, &p0, &rows };
        for (int n = 0; n < g.N; n++)
        {
            xn = x.Pointer + (nint)(n * c * hw * sizeof(float));
            on = offset.Pointer + (nint)(n * 2 * taps * pq * sizeof(float));
            mn = mask is null ? 0 : mask.Pointer + (nint)(n * taps * pq * sizeof(float));
            for (p0 = 0; p0 < g.OutH; p0 += rowsPerBlock)
            {
                rows = Math.Min(rowsPerBlock, g.OutH - p0);
                int cols = rows * g.OutW;
                gpu.Launch(kernel, Dim3.Cover((long)c * r * s * cols, 256), new Dim3(256), 0, args, 20);
                nint yBlock = y.Pointer + (nint)((n * g.K * pq + (long)p0 * g.OutW) * sizeof(float));
                for (int group = 0; group < g.Groups; group++)
                    gpu.Blas.Sgemm(false, false, kg, cols, kdim, 1f, weight.Pointer + (nint)((long)group * kg * kdim * sizeof(float)), kdim,
                        col + (nint)((long)group * kdim * cols * sizeof(float)), cols, 0f, yBlock + (nint)(group * kg * pq * sizeof(float)), checked((int)pq));
            }
        }
        BiasActivation.Launch(gpu, y.Pointer, bias?.Pointer ?? 0, y.Numel, pq, g.K, relu);
    }
}
