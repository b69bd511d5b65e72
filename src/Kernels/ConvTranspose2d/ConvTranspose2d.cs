using System.Runtime.CompilerServices;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// Transposed 2-D convolution (torch's ConvTranspose2d: weight [Cin, Cout/groups, R, S]), float32.
/// Per group a GEMM Wᵀ·x gives every input pixel's contribution to each (co, r, s) tap; col2im then
/// gathers, for each output element, the taps that land on it, adds the bias and applies ReLU. Output
/// rows are processed in blocks so the column buffer stays bounded.
/// </summary>
public static partial class ConvTranspose2d
{
    private const string Op = "conv_transpose2d";

    private static KernelSource Source => KernelCatalog.Get("ConvTranspose2d/ConvTranspose2d.cu");

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, ConvTranspose2dParams p)
    {
        var y = Forward(x, weight, bias, p, x.Device.IsCpu ? Conv2d.CpuColumnBudgetBytes : Conv2d.CudaColumnBudgetBytes);
        FlopCount.AddMultiplyAdds(Validate(x.Shape, weight.Shape, p).Macs);
        return y;
    }

    /// <summary><paramref name="implicitGemm"/> false forces OpenBLAS for the CPU GEMM, so tests cover both CPU paths.</summary>
    internal static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, ConvTranspose2dParams p, long columnBudgetBytes, bool implicitGemm = true)
    {
        var g = Validate(x, weight, bias, p);
        var y = Tensor.Empty(new Shape(g.N, g.Cout, g.OutH, g.OutW), DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        var plan = new Plan(g, columnBudgetBytes);
        if (x.Device.IsCpu) RunCpu(plan, x, weight, bias, y, p.FuseRelu, implicitGemm && Conv2dImplicitGemm.IsSupported);
        else RunCuda(plan, x, weight, bias, y, p.FuseRelu);
        return y;
    }

    /// <summary>Sizes of one call: input [N, Cin, H, W], output [N, Cout, OutH, OutW].</summary>
    internal readonly record struct Geometry(
        int N, int Cin, int H, int W, int Cout, int R, int S, int StrideH, int StrideW, int PadH, int PadW,
        int DilationH, int DilationW, int OutH, int OutW, int Groups)
    {
        public long Macs => (long)N * Cin * H * W * (Cout / Groups) * R * S;
    }

    internal static Geometry Validate(Tensor x, Tensor weight, Tensor? bias, ConvTranspose2dParams p)
    {
        Conv2d.CheckCommon(Op, x, weight, bias, p.Groups, p.Stride, p.Padding, p.Dilation);
        if (bias is not null)
        {
            int cout = weight.Shape[1] * p.Groups;
            Check.DType(bias, DType.Float32, Op, "bias");
            Check.That(bias.Rank == 1 && bias.Shape[0] == cout, Op, $"bias {bias.Shape} must be [{cout}] for weight {weight.Shape} and {p.Groups} groups");
        }
        return Validate(x.Shape, weight.Shape, p);
    }

    /// <summary>The geometry of input and weight shapes of rank 4 whose other hyper-parameters have been checked.</summary>
    private static Geometry Validate(Shape x, Shape weight, ConvTranspose2dParams p)
    {
        Check.That(p.OutputPadding.H >= 0 && p.OutputPadding.W >= 0
            && (p.OutputPadding.H < p.Stride.H || p.OutputPadding.H < p.Dilation.H)
            && (p.OutputPadding.W < p.Stride.W || p.OutputPadding.W < p.Dilation.W), Op,
            $"output padding {p.OutputPadding} must be smaller than stride {p.Stride} or dilation {p.Dilation}");
        int cin = x[1];
        Check.That(weight[0] == cin && cin > 0, Op, $"input {x} has {cin} channels but weight {weight} expects {weight[0]}");
        Check.That(cin % p.Groups == 0, Op, $"input {x}: {cin} channels do not divide into {p.Groups} groups");
        int cout = weight[1] * p.Groups;
        int h = x[2], w = x[3], r = weight[2], s = weight[3];
        int outH = (h - 1) * p.Stride.H - 2 * p.Padding.H + p.Dilation.H * (r - 1) + p.OutputPadding.H + 1;
        int outW = (w - 1) * p.Stride.W - 2 * p.Padding.W + p.Dilation.W * (s - 1) + p.OutputPadding.W + 1;
        Check.That(h > 0 && w > 0 && outH > 0 && outW > 0, Op,
            $"input {x} with weight {weight}, stride {p.Stride}, padding {p.Padding} gives an empty output");
        return new Geometry(x[0], cin, h, w, cout, r, s, p.Stride.H, p.Stride.W, p.Padding.H, p.Padding.W,
            p.Dilation.H, p.Dilation.W, outH, outW, p.Groups);
    }

    /// <summary>
    /// Blocks of output rows of one image, or whole images at a time when their columns fit. A block
    /// of output rows needs the input rows whose taps reach it, a few more than rows / stride.
    /// </summary>
    private readonly struct Plan
    {
        public Plan(in Geometry g, long budgetBytes)
        {
            G = g;
            long perInputRow = (long)g.Cout * g.R * g.S * g.W * sizeof(float);
            long perImage = perInputRow * g.H;
            if (perImage <= budgetBytes)
            {
                ImagesPerBlock = (int)Math.Clamp(budgetBytes / perImage, 1, g.N);
                OutRowsPerBlock = g.OutH;
                InputRowsPerBlock = g.H;
            }
            else
            {
                long inputRows = Math.Max(1, budgetBytes / perInputRow);
                ImagesPerBlock = 1;
                OutRowsPerBlock = (int)Math.Clamp((inputRows - 1) * g.StrideH - (long)(g.R - 1) * g.DilationH + 1, 1, g.OutH);
                InputRowsPerBlock = (int)Math.Min(g.H, ((long)OutRowsPerBlock - 1 + (long)(g.R - 1) * g.DilationH) / g.StrideH + 1);
            }
        }

        public Geometry G { get; }

        public int ImagesPerBlock { get; }

        public int OutRowsPerBlock { get; }

        /// <summary>Most input rows any block of output rows needs.</summary>
        public int InputRowsPerBlock { get; }

        public long ColumnFloatsPerImage => (long)G.Cout * G.R * G.S * InputRowsPerBlock * G.W;

        /// <summary>Input rows [i0, i0 + count) whose taps reach output rows [o0, o0 + rows).</summary>
        public (int Start, int Count) InputRows(int o0, int rows)
        {
            int low = o0 + G.PadH - (G.R - 1) * G.DilationH;
            int start = low <= 0 ? 0 : (low + G.StrideH - 1) / G.StrideH;
            int high = o0 + rows - 1 + G.PadH;
            int end = high < 0 ? 0 : Math.Min(G.H, high / G.StrideH + 1);
            return (start, Math.Max(0, end - start));
        }
    }

    /// <summary>
    /// The GEMM is a 1×1 convolution of the input rows with the transposed weight, so on AVX-512 CPUs it
    /// runs on conv2d's implicit-GEMM kernel (whole blocks of images per call, weights packed once per
    /// block); elsewhere OpenBLAS, one image at a time.
    /// </summary>
    private static unsafe void RunCpu(in Plan plan, Tensor x, Tensor weight, Tensor? bias, Tensor y, bool relu, bool implicitGemm)
    {
        var g = plan.G;
        int cinG = g.Cin / g.Groups, coutG = g.Cout / g.Groups, taps = g.R * g.S;
        long hw = (long)g.H * g.W, outHw = (long)g.OutH * g.OutW;
        int imagesPerBlock = implicitGemm ? plan.ImagesPerBlock : 1;
        using var column = Tensor.Empty(new Shape(checked((int)(plan.ColumnFloatsPerImage * imagesPerBlock))), DType.Float32, Device.Cpu);
        float* xp = (float*)x.Pointer, wp = (float*)weight.Pointer, yp = (float*)y.Pointer, colp = (float*)column.Pointer;
        float* bp = bias is null ? null : (float*)bias.Pointer;
        for (int n0 = 0; n0 < g.N; n0 += imagesPerBlock)
        {
            int images = Math.Min(imagesPerBlock, g.N - n0);
            for (int o0 = 0; o0 < g.OutH; o0 += plan.OutRowsPerBlock)
            {
                int rows = Math.Min(plan.OutRowsPerBlock, g.OutH - o0);
                var (i0, inRows) = plan.InputRows(o0, rows);
                int cols = inRows * g.W;
                long columnImage = (long)g.Cout * taps * cols;
                for (int group = 0; group < g.Groups && cols > 0; group++)
                {
                    float* a = wp + (long)group * cinG * coutG * taps;
                    float* b = xp + (n0 * g.Cin + (long)group * cinG) * hw + (long)i0 * g.W;
                    float* c = colp + (long)group * coutG * taps * cols;
                    if (implicitGemm)
                    {
                        var gemm = new Conv2dGeometry(images, cinG, inRows, g.W, coutG * taps, 1, 1, 1, 1, 0, 0, 1, 1, 1);
                        var strides = new Conv2dImplicitGemm.Strides(g.Cin * hw, hw, 1, coutG * taps, columnImage);
                        Conv2dImplicitGemm.Run(gemm, strides, b, a, null, null, c, false);
                    }
                    else
                    {
                        OpenBlas.Sgemm(true, false, coutG * taps, cols, cinG, 1f, a, coutG * taps, b, checked((int)hw), 0f, c, cols);
                    }
                }
                for (int i = 0; i < images; i++)
                    Col2ImCpu(g, colp + i * columnImage, bp, yp + (n0 + i) * g.Cout * outHw, o0, rows, i0, inRows, relu);
            }
        }
    }

    private static unsafe void Col2ImCpu(Geometry g, float* col, float* bias, float* y, int o0, int rows, int i0, int inRows, bool relu) =>
        CpuThreads.For(g.Cout * rows, (start, end) => Col2ImRows(g, col, bias, y, o0, rows, i0, inRows, relu, start, end));

    /// <summary>Output rows [start, end) of (channel, row) pairs; fully optimised from the first call, small layers never reach tier 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Col2ImRows(in Geometry g, float* col, float* bias, float* y, int o0, int rows, int i0, int inRows, bool relu, int start, int end)
    {
        long cols = (long)inRows * g.W;
        for (int item = start; item < end; item++)
        {
            int co = item / rows, oh = o0 + item % rows;
            float* dst = y + ((long)co * g.OutH + oh) * g.OutW;
            new Span<float>(dst, g.OutW).Fill(bias == null ? 0f : bias[co]);
            for (int r = 0; r < g.R; r++)
            {
                int th = oh + g.PadH - r * g.DilationH;
                if (th < 0 || th % g.StrideH != 0) continue;
                int ih = th / g.StrideH;
                if (ih < i0 || ih >= i0 + inRows) continue;
                for (int s = 0; s < g.S; s++)
                {
                    float* src = col + ((long)(co * g.R + r) * g.S + s) * cols + (long)(ih - i0) * g.W;
                    // Output columns ow = iw·stride + s·dilation − pad for iw in [0, W).
                    int offset = s * g.DilationW - g.PadW;
                    int iwBegin = offset >= 0 ? 0 : (-offset + g.StrideW - 1) / g.StrideW;
                    int iwEnd = Math.Min(g.W, g.OutW - offset <= 0 ? 0 : (g.OutW - offset + g.StrideW - 1) / g.StrideW);
                    for (int iw = iwBegin; iw < iwEnd; iw++) dst[iw * g.StrideW + offset] += src[iw];
                }
            }
            if (relu)
            {
                var row = new Span<float>(dst, g.OutW);
                TensorPrimitives.Max(row, 0f, row);
            }
        }
    }

    private static unsafe void RunCuda(in Plan plan, Tensor x, Tensor weight, Tensor? bias, Tensor y, bool relu)
    {
        var g = plan.G;
        var gpu = x.Device.Gpu;
        int cinG = g.Cin / g.Groups, coutG = g.Cout / g.Groups, taps = g.R * g.S;
        long hw = (long)g.H * g.W, outHw = (long)g.OutH * g.OutW;
        using var column = Tensor.Empty(new Shape(checked((int)(plan.ColumnFloatsPerImage * plan.ImagesPerBlock))), DType.Float32, x.Device);
        var col2im = gpu.GetKernel(Source, "conv_transpose2d_col2im_f32");
        for (int n0 = 0; n0 < g.N; n0 += plan.ImagesPerBlock)
        {
            int images = Math.Min(plan.ImagesPerBlock, g.N - n0);
            for (int o0 = 0; o0 < g.OutH; o0 += plan.OutRowsPerBlock)
            {
                int rows = Math.Min(plan.OutRowsPerBlock, g.OutH - o0);
                var (i0, inRows) = plan.InputRows(o0, rows);
                int cols = inRows * g.W;
                long columnImageStride = (long)g.Cout * taps * cols;
                if (cols > 0)
                {
                    for (int group = 0; group < g.Groups; group++)
                    {
                        gpu.Blas.SgemmStridedBatched(true, false, coutG * taps, cols, cinG, 1f,
                            weight.Pointer + (nint)((long)group * cinG * coutG * taps * sizeof(float)), coutG * taps, 0,
                            x.Pointer + (nint)(((n0 * g.Cin + (long)group * cinG) * hw + (long)i0 * g.W) * sizeof(float)), checked((int)hw), g.Cin * hw, 0f,
                            column.Pointer + (nint)((long)group * coutG * taps * cols * sizeof(float)), cols, columnImageStride, images);
                    }
                }
                LaunchCol2Im(gpu, col2im, g, column.Pointer, bias?.Pointer ?? 0, y.Pointer + (nint)(n0 * g.Cout * outHw * sizeof(float)),
                    images, o0, rows, i0, inRows, relu, (long)images * g.Cout * rows * g.OutW);
            }
        }
    }

    private static unsafe void LaunchCol2Im(IDeviceRuntime gpu, IKernel kernel, Geometry g, nint col, nint bias, nint y,
        int images, int o0, int rows, int i0, int inRows, bool relu, long total)
    {
        int cout = g.Cout, h = g.H, w = g.W, r = g.R, s = g.S, sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW;
        int dh = g.DilationH, dw = g.DilationW, outH = g.OutH, outW = g.OutW, reluFlag = relu ? 1 : 0;
        void** args = stackalloc void*[]
        {
            &col, &bias, &y, &images, &cout, &h, &w, &r, &s, &sh, &sw, &ph, &pw, &dh, &dw, &outH, &outW, &o0, &rows, &i0, &inRows, &reluFlag,
        };
        gpu.Launch(kernel, Dim3.Cover(total, 256), new Dim3(256), 0, args, 22);
    }
}
