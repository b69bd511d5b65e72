using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// 2-D convolution (NCHW input, KCRS weight, torch semantics), float32. CPU: Winograd F(4×4, 3×3)
/// (<see cref="Conv2dWinograd"/>) when the weight's transform is given (<see cref="WinogradFilters"/>, which
/// compiled models prepare for 3×3 stride-1 ungrouped convs with enough channels), else an AVX-512 implicit
/// GEMM (<see cref="Conv2dImplicitGemm"/>) where the CPU has it, else im2col over blocks of output rows plus
/// OpenBLAS SGEMM per group; bias, an optional residual map (a ResNet block's shortcut, FPN's top-down map) and ReLU
/// fused in the store every way. CUDA: cuDNN when the runtime has it, else the same im2col + device GEMM with our
/// kernels, then one epilogue pass for bias, residual and ReLU.
/// A float16 weight selects the fp16 path (<see cref="RunHalf"/>): input rounded to half, half convolution with float
/// accumulation, output rounded to half, then bias, residual and ReLU in float into a float32 output.
/// </summary>
public static partial class Conv2d
{
    private const string Op = "conv2d";

    /// <summary>
    /// Largest CPU column buffer. A ResNet 3×3 conv on a full feature map would need hundreds of MB
    /// unblocked; 32 MB keeps each GEMM's N above a thousand columns, where OpenBLAS is at full speed.
    /// </summary>
    internal const long CpuColumnBudgetBytes = 32L << 20;

    /// <summary>Largest CUDA column buffer; bigger blocks mean fewer, larger GEMMs.</summary>
    internal const long CudaColumnBudgetBytes = 256L << 20;

    private static KernelSource Source => KernelCatalog.Get("Conv2d/Conv2d.cu");

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, Conv2dParams p) => Forward(x, weight, bias, p, winograd: null);

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias = null) => Forward(x, weight, bias, Conv2dParams.Default);

    /// <summary>
    /// As <see cref="Forward(Tensor, Tensor, Tensor?, Conv2dParams)"/>, with the weight's Winograd transform prepared beforehand
    /// (null: none), for `--precision bf16` the weight packed in bf16 (null: float32), which the CPU's implicit GEMM then runs
    /// with, and y = act(conv(x) + bias + <paramref name="residual"/>) when a residual of the output's shape is given:
    /// added in the epilogue after the bias, before the ReLU, so it equals a separate add to the bit.
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, Conv2dParams p, WinogradFilters? winograd, Bf16ConvWeights? bf16 = null,
        Tensor? residual = null)
    {
        if (winograd is not null)
        {
            Check.That(winograd.WeightShape == weight.Shape, Op,
                $"Winograd filters prepared from a {winograd.WeightShape} weight cannot run weight {weight.Shape}");
        }
        if (bf16 is not null)
        {
            Check.That(bf16.WeightShape == weight.Shape && bf16.Groups == p.Groups && x.Device.IsCpu, Op,
                $"bf16 weights packed from a {bf16.WeightShape} weight in {bf16.Groups} groups cannot run weight {weight.Shape} in {p.Groups} groups on {x.Device}");
        }
        var y = Forward(x, weight, bias, p, x.Device.IsCpu ? CpuColumnBudgetBytes : CudaColumnBudgetBytes, CpuConvAlgorithm.Auto, winograd, bf16, residual);
        FlopCount.AddMultiplyAdds(Geometry(x.Shape, weight.Shape, p).Macs);
        return y;
    }

    /// <summary>The geometry <see cref="Forward(Tensor, Tensor, Tensor?, Conv2dParams)"/> would use; validates the arguments.</summary>
    public static Conv2dGeometry Geometry(Tensor x, Tensor weight, Tensor? bias, Conv2dParams p)
    {
        CheckCommon(Op, x, weight, bias, p.Groups, p.Stride, p.Padding, p.Dilation, halfWeight: true);
        if (bias is not null)
        {
            Check.DType(bias, DType.Float32, Op, "bias");
            Check.That(bias.Rank == 1 && bias.Shape[0] == weight.Shape[0], Op, $"bias {bias.Shape} must be [{weight.Shape[0]}] for weight {weight.Shape}");
        }
        return Geometry(x.Shape, weight.Shape, p);
    }

    /// <summary>The geometry of input and weight shapes of rank 4 whose hyper-parameters have been checked.</summary>
    internal static Conv2dGeometry Geometry(Shape x, Shape weight, Conv2dParams p)
    {
        int c = x[1], k = weight[0];
        Check.That(c % p.Groups == 0 && k % p.Groups == 0, Op,
            $"input {x} and weight {weight}: channels {c} and filters {k} must both divide into {p.Groups} groups");
        Check.That(weight[1] * p.Groups == c && c > 0, Op,
            $"input {x} has {c} channels but weight {weight} expects {weight[1]} per group × {p.Groups} groups");
        var g = new Conv2dGeometry(x[0], c, x[2], x[3], k, weight[2], weight[3],
            p.Stride.H, p.Stride.W, p.Padding.H, p.Padding.W, p.Dilation.H, p.Dilation.W, p.Groups);
        Check.That(g.H + 2 * g.PadH >= g.DilationH * (g.R - 1) + 1 && g.W + 2 * g.PadW >= g.DilationW * (g.S - 1) + 1, Op,
            $"weight {weight} with dilation {p.Dilation} does not fit in input {x} padded by {p.Padding}");
        return g;
    }

    /// <summary>
    /// The checks conv2d and conv_transpose2d share: NCHW float32 tensors on one device (conv2d's weight may be float16,
    /// when <paramref name="halfWeight"/>), sane hyper-parameters.
    /// </summary>
    internal static void CheckCommon(string op, Tensor x, Tensor weight, Tensor? bias, int groups, Pair2 stride, Pair2 padding, Pair2 dilation,
        bool halfWeight = false)
    {
        Check.Rank(x, 4, op, "input");
        Check.Rank(weight, 4, op, "weight");
        Check.DType(x, DType.Float32, op, "input");
        if (!halfWeight || weight.DType != DType.Float16) Check.DType(weight, DType.Float32, op, "weight");
        Check.SameDevice(op, bias is null ? [x, weight] : [x, weight, bias]);
        CheckHyperParameters(op, groups, stride, padding, dilation);
    }

    internal static void CheckHyperParameters(string op, int groups, Pair2 stride, Pair2 padding, Pair2 dilation)
    {
        Check.That(groups >= 1, op, $"groups must be at least 1, got {groups}");
        Check.That(stride.H >= 1 && stride.W >= 1, op, $"stride must be positive, got {stride}");
        Check.That(dilation.H >= 1 && dilation.W >= 1, op, $"dilation must be positive, got {dilation}");
        Check.That(padding.H >= 0 && padding.W >= 0, op, $"padding must not be negative, got {padding}");
    }

    /// <summary>
    /// <paramref name="algorithm"/> forces one CPU path, so tests and benchmarks cover each on any machine that has
    /// it (a forced path the CPU lacks, or Winograd for a geometry it does not compute, is an error); CUDA ignores it.
    /// <paramref name="winograd"/>: the weight's prepared transform, else Winograd transforms it per call.
    /// </summary>
    internal static unsafe Tensor Forward(Tensor x, Tensor weight, Tensor? bias, Conv2dParams p, long columnBudgetBytes,
        CpuConvAlgorithm algorithm = CpuConvAlgorithm.Auto, WinogradFilters? winograd = null, Bf16ConvWeights? bf16 = null, Tensor? residual = null)
    {
        var g = Geometry(x, weight, bias, p);
        var shape = new Shape(g.N, g.K, g.OutH, g.OutW);
        if (residual is not null)
        {
            Check.DType(residual, DType.Float32, Op, "residual");
            Check.SameDevice(Op, [x, residual]);
            Check.That(residual.Shape == shape, Op, $"residual {residual.Shape} must have the output's shape {shape} (input {x.Shape}, weight {weight.Shape})");
        }
        var y = Tensor.Empty(shape, DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        if (weight.DType == DType.Float16)
        {
            RunHalf(new Plan(g, columnBudgetBytes), x, weight, bias, residual, y, p);
            return y;
        }
        if (!x.Device.IsCpu)
        {
            RunCuda(new Plan(g, columnBudgetBytes), x, weight, bias, residual, y, p.FuseRelu);
            return y;
        }
        float* r = residual is null ? null : (float*)residual.Pointer;
        switch (Choose(g, algorithm, winograd is not null, bf16 is not null))
        {
            case CpuConvAlgorithm.Bf16ImplicitGemm:
                Conv2dImplicitGemm.Run(g, (float*)x.Pointer, bf16!.Product, bias is null ? null : (float*)bias.Pointer, r, (float*)y.Pointer, p.FuseRelu);
                break;
            case CpuConvAlgorithm.Winograd:
                RunWinograd(g, x, weight, bias, r, y, p.FuseRelu, winograd);
                break;
            case CpuConvAlgorithm.ImplicitGemm:
                Conv2dImplicitGemm.Run(g, (float*)x.Pointer, (float*)weight.Pointer, bias is null ? null : (float*)bias.Pointer, r, (float*)y.Pointer, p.FuseRelu);
                break;
            default:
                RunCpu(new Plan(g, columnBudgetBytes), x, weight, bias, r, y, p.FuseRelu);
                break;
        }
        return y;
    }

    /// <summary>
    /// Auto runs Winograd only with prepared filters, i.e. in models compiled for inference: training keeps the direct
    /// sum, whose ReLU masks and gradients match torch's to the training parity tests' tolerance. Small maps stay
    /// direct too (<see cref="Conv2dWinograd.PaysOn"/>). Weights packed in bf16 run the bf16 implicit GEMM wherever Winograd
    /// does not: on the FPN's 200×272 maps (256 channels) fp32 Winograd took as much CPU time as the bf16 direct sum
    /// (230 and 226 ms, `bench kernels`) at float's accuracy; on res4's 50×68 maps bf16 took 14 ms, Winograd 26.
    /// </summary>
    private static CpuConvAlgorithm Choose(in Conv2dGeometry g, CpuConvAlgorithm algorithm, bool prepared, bool bf16)
    {
        switch (algorithm)
        {
            case CpuConvAlgorithm.Auto when prepared && Conv2dWinograd.PaysOn(g):
                Check.That(Conv2dWinograd.Computes(g), Op, $"Winograd filters were given for a conv Winograd does not compute: {g}");
                return CpuConvAlgorithm.Winograd;
            case CpuConvAlgorithm.Auto when bf16:
                return CpuConvAlgorithm.Bf16ImplicitGemm;
            case CpuConvAlgorithm.Auto:
                return Conv2dImplicitGemm.IsSupported ? CpuConvAlgorithm.ImplicitGemm : CpuConvAlgorithm.Columns;
            case CpuConvAlgorithm.Winograd:
                Check.That(Conv2dWinograd.Computes(g), Op, $"Winograd needs AVX-512 and a 3x3 stride-1 dilation-1 ungrouped conv, got {g}");
                return algorithm;
            case CpuConvAlgorithm.ImplicitGemm:
                Check.That(Conv2dImplicitGemm.IsSupported, Op, "the implicit GEMM needs AVX-512, which this CPU lacks");
                return algorithm;
            default:
                return algorithm;
        }
    }

    private static unsafe void RunWinograd(in Conv2dGeometry g, Tensor x, Tensor weight, Tensor? bias, float* residual, Tensor y, bool relu, WinogradFilters? prepared)
    {
        using var perCall = prepared is null ? WinogradFilters.Prepare(weight) : null;
        var packed = (prepared ?? perCall!).PackedFor(weight);
        Conv2dWinograd.Run(g, (float*)x.Pointer, (float*)packed.Pointer, bias is null ? null : (float*)bias.Pointer, residual, (float*)y.Pointer, relu);
    }

    /// <summary>
    /// How the GEMMs are blocked: whole images at a time when their columns fit the budget, else
    /// blocks of output rows of one image. A 1×1 stride-1 unpadded conv reads the input as its column
    /// matrix and needs no buffer.
    /// </summary>
    private readonly struct Plan
    {
        public Plan(in Conv2dGeometry g, long budgetBytes)
        {
            G = g;
            Direct = g.R == 1 && g.S == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0;
            long perRow = (long)g.C * g.R * g.S * g.OutW * sizeof(float);
            long perImage = perRow * g.OutH;
            if (Direct)
            {
                ImagesPerBlock = g.N;
                RowsPerBlock = g.OutH;
            }
            else if (perImage <= budgetBytes)
            {
                ImagesPerBlock = (int)Math.Clamp(budgetBytes / perImage, 1, g.N);
                RowsPerBlock = g.OutH;
            }
            else
            {
                ImagesPerBlock = 1;
                RowsPerBlock = (int)Math.Clamp(budgetBytes / perRow, 1, g.OutH);
            }
        }

        public Conv2dGeometry G { get; }

        public bool Direct { get; }

        public int ImagesPerBlock { get; }

        public int RowsPerBlock { get; }

        public int GemmK => G.C / G.Groups * G.R * G.S;

        public long ColumnFloatsPerImage => Direct ? 0 : (long)G.C * G.R * G.S * RowsPerBlock * G.OutW;
    }

    private static unsafe void RunCpu(in Plan plan, Tensor x, Tensor weight, Tensor? bias, float* residual, Tensor y, bool relu)
    {
        var g = plan.G;
        int kg = g.K / g.Groups, kdim = plan.GemmK;
        long pq = (long)g.OutH * g.OutW, hw = (long)g.H * g.W;
        using var column = plan.Direct ? null : Tensor.Empty(new Shape(checked((int)plan.ColumnFloatsPerImage)), DType.Float32, Device.Cpu);
        float* xp = (float*)x.Pointer, wp = (float*)weight.Pointer, yp = (float*)y.Pointer;
        float* bp = bias is null ? null : (float*)bias.Pointer;
        float* colp = column is null ? null : (float*)column.Pointer;
        for (int n = 0; n < g.N; n++)
        {
            for (int p0 = 0; p0 < g.OutH; p0 += plan.RowsPerBlock)
            {
                int rows = Math.Min(plan.RowsPerBlock, g.OutH - p0);
                int cols = rows * g.OutW;
                var (b, ldb) = ColumnsCpu(plan, xp + n * g.C * hw, colp, p0, rows);
                long blockOffset = n * g.K * pq + (long)p0 * g.OutW;
                float* yBlock = yp + blockOffset;
                for (int group = 0; group < g.Groups; group++)
                {
                    OpenBlas.Sgemm(false, false, kg, cols, kdim, 1f, wp + (long)group * kg * kdim, kdim,
                        (float*)b + group * kdim * ldb, checked((int)ldb), 0f, yBlock + group * kg * pq, checked((int)pq));
                }
                // While the block is still in cache.
                BiasActivation.ChannelRows(yBlock, pq, cols, g.K, bp, relu, residual == null ? null : residual + blockOffset);
            }
        }
    }

    /// <summary>The column matrix of output rows [p0, p0 + rows) of one image and its row stride: the image itself when direct.</summary>
    private static unsafe (nint Columns, long Ld) ColumnsCpu(in Plan plan, float* image, float* column, int p0, int rows)
    {
        if (plan.Direct) return ((nint)image, (long)plan.G.H * plan.G.W);
        Im2ColCpu(plan.G, image, column, p0, rows);
        return ((nint)column, (long)rows * plan.G.OutW);
    }

    /// <summary>Output columns [begin, end) whose tap at kernel column <paramref name="s"/> lands inside the image.</summary>
    private static (int Begin, int End) InsideColumns(in Conv2dGeometry g, int s)
    {
        int q = g.OutW, offsetW = s * g.DilationW - g.PadW;
        // iw = q·stride + offsetW in [0, W).
        int begin = offsetW >= 0 ? 0 : Math.Min(q, (-offsetW + g.StrideW - 1) / g.StrideW);
        int end = g.W - offsetW <= 0 ? 0 : Math.Min(q, (g.W - offsetW + g.StrideW - 1) / g.StrideW);
        return (begin, Math.Max(end, begin));
    }

    /// <summary>Column rows (c, r, s) for output rows [p0, p0 + rows) of one image; threads split the rows.</summary>
    private static unsafe void Im2ColCpu(Conv2dGeometry g, float* x, float* col, int p0, int rows)
    {
        int q = g.OutW, cols = rows * q;
        long hw = (long)g.H * g.W;
        CpuThreads.For(g.C * g.R * g.S, (start, end) =>
        {
            for (int tap = start; tap < end; tap++)
            {
                int s = tap % g.S, r = tap / g.S % g.R, c = tap / (g.R * g.S);
                float* dst = col + (long)tap * cols;
                float* src = x + c * hw;
                int offsetW = s * g.DilationW - g.PadW;
                var (qBegin, qEnd) = InsideColumns(g, s);
                for (int pi = 0; pi < rows; pi++, dst += q)
                {
                    int ih = (p0 + pi) * g.StrideH - g.PadH + r * g.DilationH;
                    if (ih < 0 || ih >= g.H)
                    {
                        new Span<float>(dst, q).Clear();
                        continue;
                    }
                    new Span<float>(dst, qBegin).Clear();
                    new Span<float>(dst + qEnd, q - qEnd).Clear();
                    float* srcRow = src + (long)ih * g.W + offsetW;
                    if (g.StrideW == 1)
                    {
                        new ReadOnlySpan<float>(srcRow + qBegin, qEnd - qBegin).CopyTo(new Span<float>(dst + qBegin, qEnd - qBegin));
                    }
                    else
                    {
                        for (int qi = qBegin; qi < qEnd; qi++) dst[qi] = srcRow[qi * g.StrideW];
                    }
                }
            }
        });
    }

    private static void RunCuda(in Plan plan, Tensor x, Tensor weight, Tensor? bias, Tensor? residual, Tensor y, bool relu)
    {
        var g = plan.G;
        var gpu = x.Device.Gpu;
        if (gpu.Convolution is { } vendor) vendor.Forward(g, x.Pointer, weight.Pointer, y.Pointer);
        else RunGemms(plan, gpu, x, weight, y);
        BiasActivation.Launch(gpu, y.Pointer, bias?.Pointer ?? 0, y.Numel, (long)g.OutH * g.OutW, g.K, relu, residual?.Pointer ?? 0);
    }

    /// <summary>
    /// The fp16 path. On a device: x rounded to half, cuDNN's half forward (or half im2col and half GEMMs) with float
    /// accumulation into a half output, then <see cref="HalfBiasActivation"/> (with the residual in float). Its CPU twin
    /// computes the same: the float convolution of the half-rounded input and weight, rounded to half, then the same epilogue.
    /// </summary>
    private static void RunHalf(in Plan plan, Tensor x, Tensor weight, Tensor? bias, Tensor? residual, Tensor y, Conv2dParams p)
    {
        var g = plan.G;
        using var x16 = Cast.To(x, DType.Float16);
        Tensor y16;
        if (x.Device.IsCpu)
        {
            using var rounded = Cast.To(x16, DType.Float32);
            using var wide = Cast.To(weight, DType.Float32);
            using var sum = Forward(rounded, wide, null, p with { FuseRelu = false }, CpuColumnBudgetBytes);
            y16 = Cast.To(sum, DType.Float16);
        }
        else
        {
            y16 = Tensor.Empty(y.Shape, DType.Float16, y.Device);
            var gpu = x.Device.Gpu;
            if (gpu.Convolution is { } vendor) vendor.ForwardHalf(g, x16.Pointer, weight.Pointer, y16.Pointer);
            else RunGemms(plan, gpu, x16, weight, y16);
        }
        using (y16) HalfBiasActivation.Run(y16, y, bias, (long)g.OutH * g.OutW, g.K, p.FuseRelu, residual);
    }

    /// <summary>y = conv(x, w) by im2col and strided-batched GEMMs on our kernels, in x's precision (float32, or float16 with float accumulation).</summary>
    private static void RunGemms(in Plan plan, IDeviceRuntime gpu, Tensor x, Tensor weight, Tensor y)
    {
        var g = plan.G;
        bool half = x.DType == DType.Float16;
        int size = x.DType.SizeOf();
        long pq = (long)g.OutH * g.OutW;
        int kg = g.K / g.Groups, kdim = plan.GemmK;
        using var column = plan.Direct ? null : Tensor.Empty(new Shape(checked((int)(plan.ColumnFloatsPerImage * plan.ImagesPerBlock))), x.DType, x.Device);
        var im2col = plan.Direct ? null : gpu.GetKernel(Source, half ? "conv2d_im2col_f16" : "conv2d_im2col_f32");
        for (int n0 = 0; n0 < g.N; n0 += plan.ImagesPerBlock)
        {
            int images = Math.Min(plan.ImagesPerBlock, g.N - n0);
            for (int p0 = 0; p0 < g.OutH; p0 += plan.RowsPerBlock)
            {
                int rows = Math.Min(plan.RowsPerBlock, g.OutH - p0);
                int cols = rows * g.OutW;
                var (b, ldb, imageStride) = ColumnsCuda(plan, gpu, im2col, x, column, n0, images, p0, rows);
                nint yBlock = y.Pointer + (nint)((n0 * g.K * pq + (long)p0 * g.OutW) * size);
                for (int group = 0; group < g.Groups; group++)
                {
                    nint a = weight.Pointer + (nint)((long)group * kg * kdim * size), bGroup = b + (nint)(group * kdim * ldb * size);
                    nint c = yBlock + (nint)(group * kg * pq * size);
                    if (half)
                        gpu.Blas.GemmHalfStridedBatched(false, false, kg, cols, kdim, 1f, a, kdim, 0, bGroup, checked((int)ldb), imageStride, 0f, c, checked((int)pq), g.K * pq, images);
                    else
                        gpu.Blas.SgemmStridedBatched(false, false, kg, cols, kdim, 1f, a, kdim, 0, bGroup, checked((int)ldb), imageStride, 0f, c, checked((int)pq), g.K * pq, images);
                }
            }
        }
    }

    /// <summary>
    /// The column matrices of output rows [p0, p0 + rows) of images [n0, n0 + images), their row stride
    /// and the stride from one image's matrix to the next: the images themselves when direct.
    /// </summary>
    private static (nint Columns, long Ld, long ImageStride) ColumnsCuda(in Plan plan, IDeviceRuntime gpu, IKernel? im2col,
        Tensor x, Tensor? column, int n0, int images, int p0, int rows)
    {
        var g = plan.G;
        long hw = (long)g.H * g.W;
        nint xBlock = x.Pointer + (nint)(n0 * g.C * hw * x.DType.SizeOf());
        if (plan.Direct) return (xBlock, hw, g.C * hw);
        long cols = (long)rows * g.OutW, imageStride = (long)g.C * g.R * g.S * cols;
        LaunchIm2Col(gpu, im2col!, g, xBlock, column!.Pointer, images, p0, rows, imageStride * images);
        return (column.Pointer, cols, imageStride);
    }

    private static unsafe void LaunchIm2Col(IDeviceRuntime gpu, IKernel kernel, Conv2dGeometry g, nint x, nint col,
        int images, int p0, int rows, long total)
    {
        int c = g.C, h = g.H, w = g.W, r = g.R, s = g.S, sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW;
        int dh = g.DilationH, dw = g.DilationW, q = g.OutW;
        void** args = stackalloc void*[] { &x, &col, &images, &c, &h, &w, &r, &s, &sh, &sw, &ph, &pw, &dh, &dw, &q, &p0, &rows };
        gpu.Launch(kernel, Dim3.Cover(total, 256), new Dim3(256), 0, args, 17);
    }
}
