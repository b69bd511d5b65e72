using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// CPU conv2d as an implicit GEMM with an AVX-512 register-blocked kernel: per group,
/// y[K_g × pixels] = w[K_g × (C_g·R·S)] · columns, where the column matrix is never materialised.
/// Each worker gathers a panel of 48 output pixels × all C_g·R·S taps straight from the input into a
/// small buffer that stays in L2, then sweeps the packed weights over it 8 filters at a time with the
/// whole reduction in 24 zmm accumulators, and writes bias (+ a residual map) + ReLU as it stores. The product is float, or bf16 for weights
/// packed by <see cref="Bf16ConvWeights"/> (<see cref="IPanelProduct"/>).
/// Why not im2col + OpenBLAS: the column matrix of a ResNet 3×3 conv on an FPN map is 500 MB of
/// memory traffic, and the deployed OpenBLAS (0.3.21, pinned to its Haswell kernels by
/// OPENBLAS_CORETYPE on our AMD machines) runs SGEMM at half of AVX-512 speed.
/// </summary>
internal static unsafe class Conv2dImplicitGemm
{
    private const int Mr = PanelKernel.Mr;
    private const int Nr = PanelKernel.Nr;

    /// <summary>How many channels ahead the column gather prefetches its input rows.</summary>
    private const int PrefetchChannels = 4;

    public static bool IsSupported => PanelKernel.IsSupported;

    /// <summary>
    /// Strides (in floats) of the operands, so callers can run on views: conv2d passes its contiguous
    /// NCHW/KCRS tensors; conv_transpose2d runs its GEMM as a 1×1 conv over a block of input rows
    /// (channels a full plane apart) with the transposed weight (filter stride 1).
    /// </summary>
    public readonly record struct Strides(long XImage, long XChannel, long WFilter, long WTap, long YImage)
    {
        public static Strides Contiguous(in Conv2dGeometry g) =>
            new((long)g.C * g.H * g.W, (long)g.H * g.W, g.C / g.Groups * g.R * g.S, 1, (long)g.K * g.OutH * g.OutW);
    }

    /// <summary>y = conv(x, w) + bias + residual (null: none, else laid out as y), then ReLU.</summary>
    public static void Run(in Conv2dGeometry g, float* x, float* w, float* bias, float* residual, float* y, bool relu) =>
        Run(g, Strides.Contiguous(g), x, w, bias, residual, y, relu);

    public static void Run(in Conv2dGeometry g, Strides strides, float* x, float* w, float* bias, float* residual, float* y, bool relu)
    {
        int kg = g.K / g.Groups, kdim = g.C / g.Groups * g.R * g.S;
        int mBlocks = (kg + Mr - 1) / Mr;
        long packedFloats = (long)g.Groups * mBlocks * Mr * kdim;
        float* packedW = (float*)NativeMemory.AlignedAlloc((nuint)(packedFloats * sizeof(float)), 64);
        try
        {
            PackWeights(g, strides, w, packedW, kg, kdim, mBlocks);
            Run(g, strides, x, new FloatPanelProduct(packedW, kdim), bias, residual, y, relu);
        }
        finally
        {
            NativeMemory.AlignedFree(packedW);
        }
    }

    /// <summary>y = conv2d(x, the weights <paramref name="product"/> multiplies with) + bias + residual, then ReLU, over contiguous operands.</summary>
    internal static void Run<TProduct>(in Conv2dGeometry g, float* x, TProduct product, float* bias, float* residual, float* y, bool relu)
        where TProduct : struct, IPanelProduct => Run(g, Strides.Contiguous(g), x, product, bias, residual, y, relu);

    private static void Run<TProduct>(in Conv2dGeometry g, Strides strides, float* x, TProduct product, float* bias, float* residual, float* y, bool relu)
        where TProduct : struct, IPanelProduct
    {
        int panels = checked((int)(((long)g.N * g.OutH * g.OutW + Nr - 1) / Nr));
        var geometry = g;
        CpuThreads.For(g.Groups * panels, (start, end) => Work(geometry, strides, x, product, bias, residual, y, relu, start, end));
    }

    /// <summary>
    /// One worker's share of the (group, panel) units. A method of its own, not the lambda, so it can be
    /// compiled fully optimised at once: small convs finish before tiered compilation would get to it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work<TProduct>(in Conv2dGeometry geometry, Strides strides, float* x, TProduct product, float* bias, float* residual, float* y, bool relu,
        int start, int end)
        where TProduct : struct, IPanelProduct
    {
        int kg = geometry.K / geometry.Groups, kdim = geometry.C / geometry.Groups * geometry.R * geometry.S;
        int mBlocks = (kg + Mr - 1) / Mr;
        long pq = (long)geometry.OutH * geometry.OutW;
        long columns = geometry.N * pq;
        int panels = checked((int)((columns + Nr - 1) / Nr));
        long panelBytes = (long)kdim * Nr * sizeof(float);
        float* panel = (float*)NativeMemory.AlignedAlloc((nuint)(panelBytes + product.OperandBytes), 64);
        byte* operand = (byte*)panel + panelBytes;
        float* tile = stackalloc float[Mr * Nr];
        float* biasTile = stackalloc float[Mr];
        Span<Piece> pieces = stackalloc Piece[Nr];
        try
        {
            for (int unit = start; unit < end; unit++)
            {
                int group = unit / panels;
                long j0 = (long)(unit % panels) * Nr;
                int width = (int)Math.Min(Nr, columns - j0);
                int pieceCount = Split(geometry, j0, width, pieces);
                PackColumns(geometry, strides, x, group, pieces[..pieceCount], width, panel);
                product.Load(panel, operand);
                for (int mb = 0; mb < mBlocks; mb++)
                {
                    int m0 = group * kg + mb * Mr;
                    int rows = Math.Min(Mr, kg - mb * Mr);
                    long block = (long)group * mBlocks + mb;
                    float* b = bias == null ? null : bias + m0;
                    if (b != null && rows < Mr)
                    {
                        // The kernel reads 8 biases; the block's missing filters get zeros.
                        for (int i = 0; i < Mr; i++) biasTile[i] = i < rows ? b[i] : 0;
                        b = biasTile;
                    }
                    // A panel inside one image with all 8 filters real is stored in place; the rest go through a tile,
                    // whose residual and ReLU are added as it is copied out.
                    if (pieceCount == 1 || pieces[pieceCount - 1].Image == pieces[0].Image)
                    {
                        long offset = pieces[0].Image * strides.YImage + m0 * pq + pieces[0].Pixel;
                        if (width == Nr && rows == Mr) product.Multiply(block, panel, operand, y + offset, pq, b, residual == null ? null : residual + offset, relu);
                        else
                        {
                            product.Multiply(block, panel, operand, tile, Nr, b, null, relu && residual == null);
                            for (int i = 0; i < rows; i++) CopyOut(tile + i * Nr, y, residual, offset + i * pq, width, relu);
                        }
                    }
                    else
                    {
                        product.Multiply(block, panel, operand, tile, Nr, b, null, relu && residual == null);
                        foreach (var piece in pieces[..pieceCount])
                        {
                            long offset = piece.Image * strides.YImage + m0 * pq + piece.Pixel;
                            for (int i = 0; i < rows; i++) CopyOut(tile + i * Nr + piece.Offset, y, residual, offset + i * pq, piece.Length, relu);
                        }
                    }
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(panel);
        }
    }

    /// <summary>
    /// <paramref name="length"/> values of a tile row to y at <paramref name="offset"/>; with a residual, plus the
    /// residual there and then the ReLU the kernel left out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyOut(float* tileRow, float* y, float* residual, long offset, int length, bool relu)
    {
        var source = new ReadOnlySpan<float>(tileRow, length);
        var target = new Span<float>(y + offset, length);
        if (residual == null)
        {
            source.CopyTo(target);
            return;
        }
        TensorPrimitives.Add(source, new ReadOnlySpan<float>(residual + offset, length), target);
        if (relu) TensorPrimitives.Max(target, 0f, target);
    }

    /// <summary>A run of panel columns within one output row: image, first pixel (p·Q + q), offset in the panel, length.</summary>
    private readonly record struct Piece(long Image, long Pixel, int Row, int Q0, int Offset, int Length);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Split(in Conv2dGeometry g, long j0, int width, Span<Piece> pieces)
    {
        long pq = (long)g.OutH * g.OutW;
        int count = 0;
        for (int offset = 0; offset < width;)
        {
            long j = j0 + offset;
            long image = j / pq;
            long pixel = j - image * pq;
            int row = (int)(pixel / g.OutW), q0 = (int)(pixel % g.OutW);
            int length = Math.Min(width - offset, g.OutW - q0);
            pieces[count++] = new Piece(image, pixel, row, q0, offset, length);
            offset += length;
        }
        return count;
    }

    /// <summary>Weights of each group in blocks of 8 filters, tap-major: block[t·8 + i] = w[m0 + i, t]; missing filters are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackWeights(in Conv2dGeometry g, Strides strides, float* w, float* packed, int kg, int kdim, int mBlocks)
    {
        for (int group = 0; group < g.Groups; group++)
        for (int mb = 0; mb < mBlocks; mb++)
        {
            float* dst = packed + ((long)group * mBlocks + mb) * Mr * kdim;
            for (int i = 0; i < Mr; i++)
            {
                int m = mb * Mr + i;
                float* src = w + ((long)group * kg + m) * strides.WFilter;
                if (m >= kg)
                {
                    for (int t = 0; t < kdim; t++) dst[t * Mr + i] = 0;
                }
                else
                {
                    for (int t = 0; t < kdim; t++) dst[t * Mr + i] = src[t * strides.WTap];
                }
            }
        }
    }

    /// <summary>panel[t·48 + j] = the input value tap t of the group reads for panel column j (zero outside the image or the panel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackColumns(in Conv2dGeometry g, Strides strides, float* x, int group, ReadOnlySpan<Piece> pieces, int width, float* panel)
    {
        int cg = g.C / g.Groups;
        // Per kernel column s, the output columns whose tap lands inside the image: iw = q·stride + offset in [0, W).
        Span<int> qBegin = stackalloc int[g.S];
        Span<int> qEnd = stackalloc int[g.S];
        for (int s = 0; s < g.S; s++)
        {
            int offset = s * g.DilationW - g.PadW;
            qBegin[s] = offset >= 0 ? 0 : (-offset + g.StrideW - 1) / g.StrideW;
            qEnd[s] = g.W - offset <= 0 ? 0 : (g.W - offset + g.StrideW - 1) / g.StrideW;
        }
        // Loops nest as the taps are numbered (c, r, s) so no tap index is divided back into its parts:
        // at one tap per 48 columns the divisions would cost as much as the copies.
        float* dst = panel;
        for (int cl = 0; cl < cg; cl++)
        {
            float* channel = x + (group * cg + cl) * strides.XChannel;
            for (int r = 0; r < g.R; r++)
            {
                if (cl + PrefetchChannels < cg) Prefetch(g, strides, channel + PrefetchChannels * strides.XChannel, r, pieces);
                for (int s = 0; s < g.S; s++, dst += Nr)
                {
                    if (width < Nr) new Span<float>(dst + width, Nr - width).Clear();
                    int offset = s * g.DilationW - g.PadW;
                    foreach (var piece in pieces)
                    {
                        float* d = dst + piece.Offset;
                        int ih = piece.Row * g.StrideH - g.PadH + r * g.DilationH;
                        int lo = Math.Clamp(qBegin[s] - piece.Q0, 0, piece.Length), hi = Math.Clamp(qEnd[s] - piece.Q0, lo, piece.Length);
                        if ((uint)ih >= (uint)g.H) lo = hi = piece.Length;
                        for (int i = 0; i < lo; i++) d[i] = 0;
                        for (int i = hi; i < piece.Length; i++) d[i] = 0;
                        if (hi == lo) continue;
                        float* src = channel + piece.Image * strides.XImage + (long)ih * g.W + (long)piece.Q0 * g.StrideW + offset;
                        if (g.StrideW == 1)
                        {
                            int i = lo;
                            for (; i + 16 <= hi; i += 16) Vector512.Store(Vector512.Load(src + i), d + i);
                            for (; i < hi; i++) d[i] = src[i];
                        }
                        else
                        {
                            for (int i = lo; i < hi; i++) d[i] = src[(long)i * g.StrideW];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The input rows a later channel's taps will read. Panels gather a few cache lines from each of
    /// hundreds of channel planes, a pattern the hardware prefetchers do not follow, so without this
    /// the gather waits on memory for every line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Prefetch(in Conv2dGeometry g, Strides strides, float* channel, int r, ReadOnlySpan<Piece> pieces)
    {
        foreach (var piece in pieces)
        {
            int ih = piece.Row * g.StrideH - g.PadH + r * g.DilationH;
            if ((uint)ih >= (uint)g.H) continue;
            float* row = channel + piece.Image * strides.XImage + (long)ih * g.W;
            int first = Math.Max(0, piece.Q0 * g.StrideW - g.PadW);
            int last = Math.Min(g.W - 1, (piece.Q0 + piece.Length - 1) * g.StrideW - g.PadW + (g.S - 1) * g.DilationW);
            for (int i = first; i <= last; i += 16) Sse.Prefetch0(row + i);
            Sse.Prefetch0(row + last);
        }
    }
}
