using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.NonLocalAttention;

/// <summary>
/// BCNet's non-local ("GCN") block over RoI features (spec bcnet.md §1.4):
/// out = x + BN(W_o · softmax(scale · θ(x)ᵀ φ(x)) · g(x)) per RoI, all projections 1×1 convolutions
/// without bias, the softmax over keys. BCNet's code sets scale = 1/√C (<c>self.scale = 1.0 /
/// (input_channels ** 0.5)</c>, 1/16 for C = 256), which <see cref="BcnetScale"/> reproduces; the
/// scale is a parameter so the plain core can be checked against any formula.
/// <para>
/// The 1×1 convolutions are GEMMs, query/key/value stacked into one (OpenBLAS per RoI on the CPU,
/// strided-batched device BLAS over the RoIs on CUDA);
/// the attention core is one fused kernel per (RoI, 32-query tile) holding its 32 × HW scores in
/// shared memory. The eval-mode BatchNorm is folded into the output projection at load
/// (<see cref="FoldBatchNorm"/>), so the residual is that GEMM accumulating onto a copy of x
/// (beta = 1) and the BN shift is the conv bias epilogue.
/// </para>
/// </summary>
public static class NonLocalAttention
{
    private const string Op = "nonlocal_attention";
    private const string BlockOp = "nonlocal_block";

    /// <summary>BCNet's <c>nn.BatchNorm2d(..., eps=1e-04)</c> after the output projection.</summary>
    public const float BcnetBatchNormEps = 1e-4f;

    // Mirrors the tiling constants of NonLocalAttention.cu.
    private const int QueryTile = 32;
    private const int StageFloats = 16 * 32 + 16 * 224;
    private const int Threads = 256;

    /// <summary>Largest position count (H·W) the CUDA kernel takes: its scores need 32·(HW+1) floats of shared memory.</summary>
    public const int MaxCudaPositions = 512;

    private static KernelSource Source => KernelCatalog.Get("NonLocalAttention/NonLocalAttention.cu");

    /// <summary>The scale BCNet applies to Q·Kᵀ: 1/√C with C the block's input channels.</summary>
    public static float BcnetScale(int channels) => 1f / MathF.Sqrt(channels);

    /// <summary>
    /// Folds the eval-mode BatchNorm after the output projection into it: with s = γ/√(var + eps),
    /// BN(W·r) = (s ⊙ W)·r + (β − mean·s). Done once at load on CPU tensors: the projection
    /// [C, Ci] (or [C, Ci, 1, 1]) and four [C] statistics; returns the folded [C, Ci] weight and the [C] shift.
    /// </summary>
    public static (Tensor Weight, Tensor Shift) FoldBatchNorm(Tensor output, Tensor gamma, Tensor beta, Tensor mean, Tensor variance,
        float eps = BcnetBatchNormEps)
    {
        Check.DType(output, DType.Float32, BlockOp, "output weight");
        Check.That(output.Device.IsCpu, BlockOp, $"output weight {output.Shape} must be on the CPU to fold");
        Check.That(gamma.Rank == 1, BlockOp, $"batch norm gamma {gamma.Shape} must be one-dimensional");
        Check.That(output.Rank is 2 or 4, BlockOp, $"output weight {output.Shape} must be [{gamma.Shape[0]}, Ci] (or with trailing 1x1)");
        int inter = Projection(output, "output weight", gamma.Shape[0], output.Shape[1]);
        foreach (var (t, name) in new[] { (gamma, "gamma"), (beta, "beta"), (mean, "running mean"), (variance, "running variance") })
        {
            Check.DType(t, DType.Float32, BlockOp, name);
            Check.That(t.Device.IsCpu, BlockOp, $"batch norm {name} {t.Shape} must be on the CPU to fold");
            Check.That(t.Rank == 1 && t.Shape[0] == gamma.Shape[0], BlockOp,
                $"batch norm {name} {t.Shape} must be [{gamma.Shape[0]}] like gamma {gamma.Shape}");
        }
        float[] g = gamma.ToArray<float>(), b = beta.ToArray<float>(), m = mean.ToArray<float>(), v = variance.ToArray<float>();
        float[] w = output.ToArray<float>();
        var shift = new float[g.Length];
        for (int c = 0; c < g.Length; c++)
        {
            float scale = (float)(g[c] / Math.Sqrt((double)v[c] + eps));
            TensorPrimitives.Multiply(w.AsSpan(c * inter, inter), scale, w.AsSpan(c * inter, inter));
            shift[c] = b[c] - m[c] * scale;
        }
        return (Tensor.FromArray(w, g.Length, inter), Tensor.FromArray(shift, g.Length));
    }

    /// <summary>
    /// The attention core: out[r, :, i] = Σ_j softmax_j(scale · q[r, :, i] · k[r, :, j]) · v[r, :, j].
    /// Channel-major as the 1×1 convolutions produce it: q, k [R, Dk, N], v [R, Dv, N]; returns [R, Dv, N].
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, float scale)
    {
        Check.Rank(q, 3, Op, "query");
        Check.Rank(k, 3, Op, "key");
        Check.Rank(v, 3, Op, "value");
        Check.DType(q, DType.Float32, Op, "query");
        Check.DType(k, DType.Float32, Op, "key");
        Check.DType(v, DType.Float32, Op, "value");
        Check.SameDevice(Op, q, k, v);
        Check.That(k.Shape == q.Shape, Op, $"key {k.Shape} must match query {q.Shape}");
        Check.That(v.Shape[0] == q.Shape[0] && v.Shape[2] == q.Shape[2], Op,
            $"value {v.Shape} must have the RoIs and positions of query {q.Shape}");
        int rois = q.Shape[0], dk = q.Shape[1], n = q.Shape[2], dv = v.Shape[1];
        var y = Tensor.Empty(v.Shape, DType.Float32, v.Device);
        if (y.Numel == 0) return y;
        if (q.Device.IsCpu) AttendCpu(q.Pointer, k.Pointer, v.Pointer, y.Pointer, rois, n, dk, dv, scale);
        else LaunchAttention(q.Device.Gpu, q.Pointer, k.Pointer, v.Pointer, y.Pointer, rois, (long)dk * n, (long)dv * n, n, dk, dv, scale);
        return y;
    }

    /// <summary>
    /// The whole block on x [R, C, H, W]: query, key, value [Ci, C] (or [Ci, C, 1, 1] as stored), and
    /// the output projection [C, Ci] with its BatchNorm folded in plus the BN shift [C], as
    /// <see cref="FoldBatchNorm"/> makes them. BCNet uses Ci = C and <c>scale = BcnetScale(C)</c>.
    /// </summary>
    public static Tensor Forward(Tensor x, Tensor query, Tensor key, Tensor value, Tensor output, Tensor shift, float scale)
    {
        Check.Rank(x, 4, BlockOp, "input");
        Check.SameDevice(BlockOp, x, query, key, value, output, shift);
        foreach (var (t, name) in new[] { (x, "input"), (query, "query weight"), (key, "key weight"), (value, "value weight"),
                     (output, "output weight"), (shift, "bn shift") })
            Check.DType(t, DType.Float32, BlockOp, name);
        int rois = x.Shape[0], channels = x.Shape[1], n = x.Shape[2] * x.Shape[3];
        int inter = Projection(query, "query weight", -1, channels);
        Check.That(inter > 0, BlockOp, $"query weight {query.Shape} has no output channels");
        Projection(key, "key weight", inter, channels);
        Projection(value, "value weight", inter, channels);
        Projection(output, "output weight", channels, inter);
        Check.That(shift.Rank == 1 && shift.Shape[0] == channels, BlockOp, $"bn shift {shift.Shape} must be [{channels}] for input {x.Shape}");
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        if (x.Device.IsCpu) ForwardCpu(x, query, key, value, output, shift, y, rois, channels, inter, n, scale);
        else ForwardCuda(x, query, key, value, output, shift, y, rois, channels, inter, n, scale);
        return y;
    }

    /// <summary>Checks a 1×1 projection [outChannels, inChannels(, 1, 1)] and returns its output channels.</summary>
    private static int Projection(Tensor w, string name, int outChannels, int inChannels)
    {
        bool shapeOk = (w.Rank == 2 || (w.Rank == 4 && w.Shape[2] == 1 && w.Shape[3] == 1))
            && w.Shape[1] == inChannels && (outChannels < 0 || w.Shape[0] == outChannels);
        string expected = outChannels < 0 ? $"[Ci, {inChannels}]" : $"[{outChannels}, {inChannels}]";
        Check.That(shapeOk, BlockOp, $"{name} {w.Shape} must be {expected} (or with trailing 1x1)");
        return w.Shape[0];
    }

    private static unsafe void ForwardCpu(Tensor x, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor shift,
        Tensor y, int rois, int channels, int inter, int n, float scale)
    {
        long roiFloats = (long)channels * n, interFloats = (long)inter * n, weightFloats = (long)inter * channels;
        using var scratch = Tensor.Empty(Device.Cpu, DType.Float32, checked((int)(4 * interFloats + (long)n * n + 3 * weightFloats)));
        float* q = (float*)scratch.Pointer, k = q + interFloats, v = k + interFloats, a = v + interFloats, scores = a + interFloats;
        // Query, key and value weights stacked: one GEMM per RoI, three times as tall, fills q, k, v at once.
        float* wqkv = scores + (long)n * n;
        new ReadOnlySpan<float>((void*)wq.Pointer, (int)weightFloats).CopyTo(new Span<float>(wqkv, (int)weightFloats));
        new ReadOnlySpan<float>((void*)wk.Pointer, (int)weightFloats).CopyTo(new Span<float>(wqkv + weightFloats, (int)weightFloats));
        new ReadOnlySpan<float>((void*)wv.Pointer, (int)weightFloats).CopyTo(new Span<float>(wqkv + 2 * weightFloats, (int)weightFloats));
        float* xp = (float*)x.Pointer, yp = (float*)y.Pointer;
        y.CopyFrom(x);
        for (int r = 0; r < rois; r++)
        {
            float* xr = xp + r * roiFloats, yr = yp + r * roiFloats;
            OpenBlas.Sgemm(false, false, 3 * inter, n, channels, 1f, wqkv, channels, xr, n, 0f, q, n);
            AttendRoiCpu(q, k, v, a, scores, n, inter, inter, scale);
            OpenBlas.Sgemm(false, false, channels, n, inter, 1f, (float*)wo.Pointer, inter, a, n, 1f, yr, n);
            BiasActivation.ChannelRows(yr, n, n, channels, (float*)shift.Pointer, false);
        }
    }

    private static unsafe void AttendCpu(nint q, nint k, nint v, nint y, int rois, int n, int dk, int dv, float scale)
    {
        using var scores = Tensor.Empty(Device.Cpu, DType.Float32, n, n);
        for (int r = 0; r < rois; r++)
        {
            AttendRoiCpu((float*)q + (long)r * dk * n, (float*)k + (long)r * dk * n, (float*)v + (long)r * dv * n,
                (float*)y + (long)r * dv * n, (float*)scores.Pointer, n, dk, dv, scale);
        }
    }

    /// <summary>One RoI: scores = scale·QᵀK (n × n), softmax per row, out = V·Pᵀ; the GEMMs thread inside OpenBLAS.</summary>
    private static unsafe void AttendRoiCpu(float* q, float* k, float* v, float* o, float* scores, int n, int dk, int dv, float scale)
    {
        if (dk == 0) new Span<float>(scores, n * n).Clear();
        else OpenBlas.Sgemm(true, false, n, n, dk, scale, q, n, k, n, 0f, scores, n);
        CpuThreads.For(n, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                var row = new Span<float>(scores + (long)i * n, n);
                TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), row);
                TensorPrimitives.Exp(row, row);
                TensorPrimitives.Multiply(row, 1f / TensorPrimitives.Sum(row), row);
            }
        });
        OpenBlas.Sgemm(false, true, dv, n, n, 1f, v, n, scores, n, 0f, o, n);
    }

    private static void ForwardCuda(Tensor x, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor shift,
        Tensor y, int rois, int channels, int inter, int n, float scale)
    {
        var gpu = x.Device.Gpu;
        var blas = gpu.Blas;
        long roiFloats = (long)channels * n, interFloats = (long)inter * n, weightBytes = (long)inter * channels * sizeof(float);
        // As on the CPU, one projection GEMM three times as tall: [R, 3·Ci, N] holds q, k, v per RoI.
        using var wqkv = Tensor.Empty(x.Device, DType.Float32, 3 * inter, channels);
        gpu.CopyDeviceToDevice(wqkv.Pointer, wq.Pointer, weightBytes);
        gpu.CopyDeviceToDevice(wqkv.Pointer + (nint)weightBytes, wk.Pointer, weightBytes);
        gpu.CopyDeviceToDevice(wqkv.Pointer + (nint)(2 * weightBytes), wv.Pointer, weightBytes);
        using var qkv = Tensor.Empty(x.Device, DType.Float32, rois, 3 * inter, n);
        using var a = Tensor.Empty(x.Device, DType.Float32, rois, inter, n);
        // Stride 0 on the weight: every RoI's projection reuses the same matrix.
        blas.SgemmStridedBatched(false, false, 3 * inter, n, channels, 1f, wqkv.Pointer, channels, 0, x.Pointer, n, roiFloats,
            0f, qkv.Pointer, n, 3 * interFloats, rois);
        long sliceBytes = interFloats * sizeof(float);
        LaunchAttention(gpu, qkv.Pointer, qkv.Pointer + (nint)sliceBytes, qkv.Pointer + (nint)(2 * sliceBytes), a.Pointer, rois,
            3 * interFloats, 3 * interFloats, n, inter, inter, scale);
        gpu.CopyDeviceToDevice(y.Pointer, x.Pointer, y.Bytes);
        blas.SgemmStridedBatched(false, false, channels, n, inter, 1f, wo.Pointer, inter, 0, a.Pointer, n, interFloats, 1f, y.Pointer, n, roiFloats, rois);
        BiasActivation.Launch(gpu, y.Pointer, shift.Pointer, y.Numel, n, channels, false);
    }

    private static unsafe void LaunchAttention(IDeviceRuntime gpu, nint q, nint k, nint v, nint y, long rois, long qkStride, long vStride,
        int n, int dk, int dv, float scale)
    {
        Check.That(n <= MaxCudaPositions, Op, $"{n} positions per RoI exceed the CUDA kernel's {MaxCudaPositions} (its scores live in shared memory)");
        // An odd row stride spreads the 16 score rows read together in the V phase over distinct banks.
        int ld = n | 1;
        int sharedBytes = (QueryTile * ld + QueryTile + StageFloats) * sizeof(float);
        long blocks = rois * ((n + QueryTile - 1) / QueryTile);
        void** args = stackalloc void*[] { &q, &k, &v, &y, &rois, &qkStride, &vStride, &n, &dk, &dv, &scale, &ld };
        gpu.Launch(gpu.GetKernel(Source, "nonlocal_attention_f32"), new Dim3((uint)Math.Min(blocks, int.MaxValue)), new Dim3(Threads),
            sharedBytes, args, 12);
    }
}
