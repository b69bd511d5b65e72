using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// CPU conv2d by Winograd's F(4×4, 3×3) (<see cref="WinogradF43"/>) for 3×3, stride-1, dilation-1, ungrouped
/// convolutions: a quarter of the direct method's multiplications. F(4×4) rather than F(2×2), which saves only
/// 2.25×: the products here run on the same micro-kernel as the direct path, so the multiplications saved are the
/// speed-up, and the transforms are shared by 16 outputs instead of 4. Its price is accuracy: against the direct
/// path the relative error (max |difference| / max |output|) was 1.3e-5 at 256 channels (Conv2dWinogradTests).
/// Each worker takes a panel of 48 output tiles (<see cref="PanelKernel.Nr"/>): transforms their 6×6 input tiles
/// for every channel into V[36][C][48], runs the 36 per-frequency products M = U·V with the AVX-512 micro-kernel
/// 8 filters at a time, and turns M back into 4×4 output tiles with bias (+ a residual map) and ReLU as it stores. A worker's buffers are 36·(C + K)·48 floats (3.5 MB at 256 channels); nothing of image size is allocated.
/// CPU only: on a GPU cuDNN picks its own algorithm, Winograd included.
/// </summary>
internal static unsafe class Conv2dWinograd
{
    private const int Mr = PanelKernel.Mr;
    private const int Nr = PanelKernel.Nr;
    private const int M = WinogradF43.M;
    private const int Alpha = WinogradF43.Alpha;
    private const int Points = WinogradF43.Points;

    /// <summary>
    /// Fewest input channels and filters worth the transforms: each tile's transforms cost about as much as
    /// its products do at 16 channels, so below that the implicit GEMM is no slower.
    /// </summary>
    private const int MinChannels = 16;

    /// <summary>Fewest output tiles for <see cref="PaysOn"/>: eight panels, between the measured break-even and gain.</summary>
    private const int MinTiles = 8 * Nr;

    /// <summary>A worker's scratch: one channel's input windows [36][48], or one filter's column pass [6·4][48] and tiles [16][48].</summary>
    private const int ScratchFloats = (Alpha * M + M * M) * Nr;

    public static bool IsSupported => PanelKernel.IsSupported;

    /// <summary>Whether this CPU can compute the geometry this way: 3×3, stride 1, dilation 1, one group, AVX-512.</summary>
    public static bool Computes(in Conv2dGeometry g) =>
        IsSupported && g.R == 3 && g.S == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1 && g.Groups == 1;

    /// <summary>Whether compiled models use this algorithm for the geometry: it computes it, and the channels make it pay.</summary>
    public static bool Applies(in Conv2dGeometry g) => Computes(g) && g.C >= MinChannels && g.K >= MinChannels;

    /// <summary>
    /// Whether the map has tiles enough to pay for streaming the transformed filters (36·C·K floats) once per panel
    /// of 48 tiles. Measured at 256 channels (`bench kernels`, process CPU time): 221 tiles (res4 at 800×1088) were
    /// no faster than the direct path, 1,600 and 3,400 (the mask head, FPN P2) took 0.55 of its time.
    /// </summary>
    public static bool PaysOn(in Conv2dGeometry g) => (long)g.N * ((g.OutH + M - 1) / M) * ((g.OutW + M - 1) / M) >= MinTiles;

    /// <summary>Filters per block of the packed transform.</summary>
    public static int FilterBlocks(int filters) => (filters + Mr - 1) / Mr;

    /// <summary>
    /// U = G g Gᵀ of every filter, packed as PanelKernel reads it: for frequency ξ and block mb of 8 filters,
    /// packed[((ξ·blocks + mb)·C + c)·8 + i] = U[ξ] of filter mb·8 + i, channel c (zero past the last filter).
    /// </summary>
    public static void TransformFilters(float* w, int filters, int channels, float* packed)
    {
        int blocks = FilterBlocks(filters);
        new Span<float>(packed, Points * blocks * channels * Mr).Clear();
        CpuThreads.For(filters, (start, end) =>
        {
            Span<float> u = stackalloc float[Points];
            for (int k = start; k < end; k++)
            {
                int mb = k / Mr, i = k % Mr;
                for (int c = 0; c < channels; c++)
                {
                    WinogradF43.Filter(w + ((long)k * channels + c) * 9, u);
                    for (int xi = 0; xi < Points; xi++) packed[(((long)xi * blocks + mb) * channels + c) * Mr + i] = u[xi];
                }
            }
        });
    }

    /// <summary>y = conv2d(x, the filters whose transform is <paramref name="packed"/>) + bias + residual (null: none, else laid out as y), then ReLU.</summary>
    public static void Run(in Conv2dGeometry g, float* x, float* packed, float* bias, float* residual, float* y, bool relu)
    {
        var plan = new Plan(g);
        int panels = plan.Panels;
        // Few panels (a small map) leave threads idle: split the filters too, each share transforming its panel's input again.
        int splits = Math.Clamp((2 * CpuThreads.Count + panels - 1) / panels, 1, plan.FilterBlocks);
        var geometry = g;
        CpuThreads.For(panels * splits, (start, end) => Work(geometry, plan, x, packed, bias, residual, y, relu, splits, start, end));
    }

    /// <summary>The tiling: output tiles of 4×4 over every image, in panels of 48.</summary>
    private readonly record struct Plan(int TilesH, int TilesW, long Tiles, int Panels, int FilterBlocks)
    {
        public Plan(in Conv2dGeometry g) : this((g.OutH + M - 1) / M, (g.OutW + M - 1) / M, 0, 0, Conv2dWinograd.FilterBlocks(g.K))
        {
            Tiles = (long)g.N * TilesH * TilesW;
            Panels = checked((int)((Tiles + Nr - 1) / Nr));
        }
    }

    /// <summary>
    /// One worker's units: unit u is panel u / splits with its share u % splits of the filter blocks. A method of its
    /// own, not the lambda, so it is compiled fully optimised at once; its buffers are allocated once for all units.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work(in Conv2dGeometry g, in Plan plan, float* x, float* packed, float* bias, float* residual, float* y, bool relu,
        int splits, int start, int end)
    {
        long vFloats = (long)Points * g.C * Nr, mFloats = (long)Points * plan.FilterBlocks * Mr * Nr;
        float* v = (float*)NativeMemory.AlignedAlloc((nuint)((vFloats + mFloats + ScratchFloats) * sizeof(float)), 64);
        try
        {
            for (int unit = start; unit < end; unit++)
            {
                int split = unit % splits;
                int mb0 = plan.FilterBlocks * split / splits, mb1 = plan.FilterBlocks * (split + 1) / splits;
                Panel(g, plan, x, packed, bias, residual, y, relu, unit / splits, mb0, mb1, v, v + vFloats, v + vFloats + mFloats);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(v);
        }
    }

    /// <summary>
    /// Filter blocks [mb0, mb1) of one panel of tiles, through the worker's buffers: <paramref name="v"/> the
    /// transformed input [36][C][48], <paramref name="m"/> the products [36][K rounded up to 8][48]. Frequencies run
    /// outermost so each one's 48-tile slice of V (48 KB at 256 channels) stays in L1 for all filter blocks, where
    /// filter blocks outermost would stream all of V from L3 once per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel(in Conv2dGeometry g, in Plan plan, float* x, float* packed, float* bias, float* residual, float* y, bool relu,
        int panel, int mb0, int mb1, float* v, float* m, float* scratch)
    {
        long t0 = (long)panel * Nr;
        int width = (int)Math.Min(Nr, plan.Tiles - t0);
        Span<long> image = stackalloc long[Nr];
        Span<int> row = stackalloc int[Nr];
        Span<int> col = stackalloc int[Nr];
        int perImage = plan.TilesH * plan.TilesW;
        for (int j = 0; j < width; j++)
        {
            long t = t0 + j;
            image[j] = t / perImage;
            int inImage = (int)(t % perImage);
            row[j] = inImage / plan.TilesW * M;
            col[j] = inImage % plan.TilesW * M;
        }
        TransformInput(g, x, image[..width], row[..width], col[..width], v, scratch);
        int pointStride = plan.FilterBlocks * Mr * Nr;
        for (int xi = 0; xi < Points; xi++)
        for (int mb = mb0; mb < mb1; mb++)
            PanelKernel.Run(g.C, packed + ((long)xi * plan.FilterBlocks + mb) * g.C * Mr, v + (long)xi * g.C * Nr, m + (long)xi * pointStride + mb * Mr * Nr, Nr, null, false);
        for (int k = mb0 * Mr; k < Math.Min(mb1 * Mr, g.K); k++)
        {
            long plane = (long)k * g.OutH * g.OutW;
            TransformOutput(g, m + k * Nr, pointStride, scratch, bias == null ? 0f : bias[k], residual == null ? null : residual + plane, relu,
                y + plane, image[..width], row[..width], col[..width]);
        }
    }

    /// <summary>
    /// V[ξ][c][j] = (Bᵀ d B)[ξ] of tile j's 6×6 input window in channel c (zeros outside the image and past the
    /// panel's last tile). <paramref name="d"/> holds one channel's windows, [36][48].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput(in Conv2dGeometry g, float* x, ReadOnlySpan<long> image, ReadOnlySpan<int> row, ReadOnlySpan<int> col, float* v, float* d)
    {
        long plane = (long)g.H * g.W;
        int width = image.Length;
        if (width < Nr) new Span<float>(d, Points * Nr).Clear();
        for (int c = 0; c < g.C; c++)
        {
            for (int j = 0; j < width; j++)
            {
                float* channel = x + (image[j] * g.C + c) * plane;
                int y0 = row[j] - g.PadH, x0 = col[j] - g.PadW;
                bool inside = x0 >= 0 && x0 + Alpha <= g.W;
                for (int a = 0; a < Alpha; a++)
                {
                    float* dst = d + a * Alpha * Nr + j;
                    int iy = y0 + a;
                    if ((uint)iy >= (uint)g.H)
                    {
                        for (int b = 0; b < Alpha; b++) dst[b * Nr] = 0;
                        continue;
                    }
                    float* src = channel + (long)iy * g.W + x0;
                    if (inside)
                    {
                        for (int b = 0; b < Alpha; b++) dst[b * Nr] = src[b];
                    }
                    else
                    {
                        for (int b = 0; b < Alpha; b++) dst[b * Nr] = (uint)(x0 + b) < (uint)g.W ? src[b] : 0;
                    }
                }
            }
            for (int lane = 0; lane < Nr; lane += 16)
            {
                for (int b = 0; b < Alpha; b++) WinogradF43.Input(d + b * Nr + lane, Alpha * Nr);
                for (int a = 0; a < Alpha; a++) WinogradF43.Input(d + a * Alpha * Nr + lane, Nr);
            }
            float* dst0 = v + (long)c * Nr;
            for (int xi = 0; xi < Points; xi++)
            {
                float* s = d + xi * Nr;
                float* o = dst0 + (long)xi * g.C * Nr;
                Vector512.Store(Vector512.Load(s), o);
                Vector512.Store(Vector512.Load(s + 16), o + 16);
                Vector512.Store(Vector512.Load(s + 32), o + 32);
            }
        }
    }

    /// <summary>
    /// One filter's 4×4 output tiles: Aᵀ m A of its 36 frequency values per tile (m[ξ·pointStride + j]), plus bias, then
    /// ReLU, stored where they fall inside the output plane <paramref name="plane"/> of image 0 (image strides added).
    /// A residual (its plane laid out as <paramref name="plane"/>) is added as the tiles are stored, the ReLU after it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput(in Conv2dGeometry g, float* m, int pointStride, float* scratch, float bias, float* residual, bool relu, float* plane,
        ReadOnlySpan<long> image, ReadOnlySpan<int> row, ReadOnlySpan<int> col)
    {
        float* columns = scratch;
        float* tile = scratch + Alpha * M * Nr;
        for (int lane = 0; lane < Nr; lane += 16)
        {
            for (int b = 0; b < Alpha; b++) WinogradF43.Output(m + b * pointStride + lane, Alpha * pointStride, columns + b * Nr + lane, Alpha * Nr);
            for (int u = 0; u < M; u++) WinogradF43.Output(columns + u * Alpha * Nr + lane, Nr, tile + u * M * Nr + lane, Nr);
            var shift = Vector512.Create(bias);
            for (int e = 0; e < M * M; e++)
            {
                var value = Vector512.Load(tile + e * Nr + lane) + shift;
                // vmaxps returns its second operand when either is NaN, so NaNs pass through as torch's relu does.
                if (relu && residual == null) value = Avx512F.Max(Vector512<float>.Zero, value);
                Vector512.Store(value, tile + e * Nr + lane);
            }
        }
        long imageStride = (long)g.K * g.OutH * g.OutW;
        for (int j = 0; j < image.Length; j++)
        {
            int rows = Math.Min(M, g.OutH - row[j]), cols = Math.Min(M, g.OutW - col[j]);
            long offset = image[j] * imageStride + (long)row[j] * g.OutW + col[j];
            float* dst = plane + offset;
            if (residual == null)
            {
                for (int u = 0; u < rows; u++)
                for (int w = 0; w < cols; w++)
                    dst[(long)u * g.OutW + w] = tile[(u * M + w) * Nr + j];
                continue;
            }
            float* add = residual + offset;
            for (int u = 0; u < rows; u++)
            for (int w = 0; w < cols; w++)
            {
                float value = tile[(u * M + w) * Nr + j] + add[(long)u * g.OutW + w];
                // As vmaxps with zero first: NaN passes through.
                dst[(long)u * g.OutW + w] = relu && value < 0 ? 0 : value;
            }
        }
    }
}
