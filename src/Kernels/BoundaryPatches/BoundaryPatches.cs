using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoundaryPatches;

/// <summary>
/// Boundary patch refinement's patch extraction and reassembly (tinyalpha/BPR's tools path): boundary levels of
/// each mask, dense patch proposals on every boundary pixel with greedy NMS, the network input under each patch,
/// and the refined masks pasted back. Masks are uint8 [N, H, W] (non-zero = foreground); the image is uint8 RGB
/// [H, W, 3]. Sizes, thresholds and the normalisation are parameters: the model decides them.
/// </summary>
public static class BoundaryPatches
{
    private const int Threads = 256;

    private static KernelSource Source => KernelCatalog.Get("BoundaryPatches/BoundaryPatches.cu");

    /// <summary>
    /// min(c, 9 − c) per pixel for the zero-padded 3×3 neighbourhood count c of foreground pixels: uint8 [N, H, W],
    /// 0 off the boundary band, 4 where it bends most (upstream's float boundary score is 2·level/9).
    /// </summary>
    public static Tensor Levels(Tensor masks)
    {
        const string op = "boundary_levels";
        var (n, h, w) = ValidateMasks(masks, op);
        var levels = Tensor.Empty(masks.Device, DType.UInt8, n, h, w);
        if (levels.Numel == 0) return levels;
        if (masks.Device.IsCpu) LevelsCpu(masks.AsSpan<byte>().ToArray(), n, h, w, levels);
        else LaunchLevels(masks, n, h, w, levels);
        return levels;
    }

    /// <summary>
    /// Patches of side <paramref name="size"/> (even) centred on every boundary pixel, kept greedily in descending
    /// level and then row-major order, suppressed at IoU ≥ <paramref name="iouThreshold"/> with a kept one (mmcv's
    /// CPU NMS), then moved inside the image as upstream does: a patch past the right or bottom edge ends at
    /// W − 1 or H − 1, so the last column and row are never refined. An image no larger than a patch in either
    /// direction gets no patches.
    /// </summary>
    public static PatchProposals Propose(Tensor masks, int size, float iouThreshold)
    {
        const string op = "boundary_patch_nms";
        var (n, h, w) = ValidateMasks(masks, op);
        Check.That(size >= 2 && size % 2 == 0, op, $"patch size {size} must be even and at least 2");
        Check.That(iouThreshold is >= 0f and <= 1f, op, $"IoU threshold {iouThreshold} must lie in [0, 1]");
        if (n == 0 || h <= size || w <= size)
            return new PatchProposals(Tensor.Empty(masks.Device, DType.Int32, 0, 3), new int[n + 1], size);

        int capacity = Capacity(h, w, size, iouThreshold);
        int[] centres, counts;
        using (var levels = Levels(masks))
        {
            if (masks.Device.IsCpu) (centres, counts) = NmsCpu(levels.AsSpan<byte>().ToArray(), n, h, w, size, iouThreshold, capacity);
            else (centres, counts) = LaunchNms(levels, n, h, w, size, iouThreshold, capacity);
        }
        var first = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            Check.That(counts[i] <= capacity, op, $"instance {i} kept {counts[i]} patches, more than the {capacity} its image can hold");
            first[i + 1] = first[i] + counts[i];
        }
        var patches = new int[first[n] * 3];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < counts[i]; k++)
            {
                int row = first[i] + k, at = (i * capacity + k) * 2;
                patches[row * 3] = i;
                patches[row * 3 + 1] = MoveInside(centres[at] - size / 2, size, w);
                patches[row * 3 + 2] = MoveInside(centres[at + 1] - size / 2, size, h);
            }
        }
        using var host = Tensor.FromArray(patches, first[n], 3);
        return new PatchProposals(host.To(masks.Device), first, size);
    }

    /// <summary>
    /// The network input under patches <paramref name="start"/> .. start + count − 1 (all by default), float32
    /// [count, 4, outSize, outSize]: the image resized bilinearly to <paramref name="outSize"/> and rounded to uint8 as
    /// OpenCV resizes uint8 images, then normalised, and the instance's mask resized nearest as −1 / +1.
    /// </summary>
    public static Tensor Crop(Tensor image, Tensor masks, PatchProposals proposals, int outSize, PatchNormalization normalization,
        int start = 0, int count = -1)
    {
        const string op = "boundary_patch_crop";
        var (_, h, w) = ValidateMasks(masks, op);
        Check.DType(image, DType.UInt8, op, "image");
        Check.That(image.Rank == 3 && image.Shape[0] == h && image.Shape[1] == w && image.Shape[2] == 3, op,
            $"image {image.Shape} must be [H, W, 3] with the masks' size {h}x{w}");
        Check.That(outSize >= 1, op, $"output size {outSize} must be positive");
        Check.That(normalization.Mean.Length == 3 && normalization.Std.Length == 3 && normalization.Std.All(s => s > 0), op,
            "the normalisation needs three means and three positive standard deviations");
        Check.SameDevice(op, image, masks, proposals.Patches);
        int k = count < 0 ? proposals.Count - start : count;
        Check.That(start >= 0 && k >= 0 && start + k <= proposals.Count, op, $"patches {start} .. {start + k - 1} are not among the {proposals.Count} proposed");
        var output = Tensor.Empty(masks.Device, DType.Float32, k, 4, outSize, outSize);
        if (k == 0) return output;
        if (masks.Device.IsCpu) CropCpu(image, masks, h, w, proposals, start, k, outSize, normalization, output);
        else LaunchCrop(image, masks, h, w, proposals, start, k, outSize, normalization, output);
        return output;
    }

    /// <summary>
    /// Each instance's refined mask, uint8 [N, H, W] of 0/1: where its patches cover a pixel, the mean of their
    /// foreground probabilities (softmax over <paramref name="logits"/> [K, 2, size, size]) is &gt; 0.5; elsewhere the
    /// coarse mask.
    /// </summary>
    public static Tensor Reassemble(Tensor logits, PatchProposals proposals, Tensor coarse)
    {
        const string op = "boundary_patch_reassemble";
        var (n, h, w) = ValidateMasks(coarse, op);
        int size = proposals.Size, k = proposals.Count;
        Check.DType(logits, DType.Float32, op, "logits");
        Check.That(logits.Rank == 4 && logits.Shape[0] == k && logits.Shape[1] == 2 && logits.Shape[2] == size && logits.Shape[3] == size, op,
            $"logits {logits.Shape} must be [{k}, 2, {size}, {size}] for {k} patches of side {size}");
        Check.That(proposals.First.Count == n + 1, op, $"the proposals are for {proposals.First.Count - 1} instances, the coarse masks hold {n}");
        Check.SameDevice(op, logits, proposals.Patches, coarse);
        var refined = Tensor.Empty(coarse.Device, DType.UInt8, n, h, w);
        if (refined.Numel == 0) return refined;
        if (coarse.Device.IsCpu) ReassembleCpu(logits, proposals, coarse, n, h, w, refined);
        else LaunchReassemble(logits, proposals, coarse, n, h, w, refined);
        return refined;
    }

    /// <summary>
    /// An upper bound on the patches one instance keeps: kept centres are at least s apart in the max-norm, where s
    /// is the smallest offset (s, s) whose IoU falls below the threshold, so each s×s cell of the image holds one.
    /// </summary>
    internal static int Capacity(int h, int w, int size, float threshold)
    {
        int s = size;
        for (int d = 0; d < size; d++)
        {
            if (!Suppressed(d, d, size, threshold)) { s = Math.Max(d, 1); break; }
        }
        return (int)Math.Min((long)((h + s - 1) / s) * ((w + s - 1) / s), (long)h * w);
    }

    /// <summary>The device's bp_suppressed: IoU ≥ threshold for equal boxes whose centres are (dx, dy) apart.</summary>
    private static bool Suppressed(int dx, int dy, int side, float threshold)
    {
        int ix = side - Math.Abs(dx), iy = side - Math.Abs(dy);
        float inter = Math.Max(ix, 0) * Math.Max(iy, 0);
        float area = side * side;
        return inter / (area + area - inter) >= threshold;
    }

    /// <summary>Upstream's _force_move_back along one axis of length <paramref name="extent"/>.</summary>
    private static int MoveInside(int start, int size, int extent)
    {
        if (start < 0) return 0;
        if (start + size >= extent) return extent - 1 - size;
        return start;
    }

    private static (int N, int H, int W) ValidateMasks(Tensor masks, string op)
    {
        Check.DType(masks, DType.UInt8, op, "masks");
        Check.Rank(masks, 3, op, "masks");
        return (masks.Shape[0], masks.Shape[1], masks.Shape[2]);
    }

    private static void LevelsCpu(byte[] masks, int n, int h, int w, Tensor levels)
    {
        unsafe
        {
            byte* output = (byte*)levels.Pointer;
            CpuThreads.For(n * h, (start, end) =>
            {
                for (int row = start; row < end; row++)
                {
                    int plane = row / h, y = row % h;
                    for (int x = 0; x < w; x++)
                    {
                        int c = 0;
                        for (int yy = Math.Max(y - 1, 0); yy <= Math.Min(y + 1, h - 1); yy++)
                        {
                            int rowStart = (plane * h + yy) * w;
                            for (int xx = Math.Max(x - 1, 0); xx <= Math.Min(x + 1, w - 1); xx++) c += masks[rowStart + xx] != 0 ? 1 : 0;
                        }
                        output[(long)row * w + x] = (byte)Math.Min(c, 9 - c);
                    }
                }
            }, grain: 64);
        }
    }

    private static (int[] Centres, int[] Counts) NmsCpu(byte[] levels, int n, int h, int w, int size, float threshold, int capacity)
    {
        var centres = new int[n * capacity * 2];
        var counts = new int[n];
        int plane = h * w;
        CpuThreads.For(n, (start, end) =>
        {
            for (int inst = start; inst < end; inst++)
            {
                int count = 0, at = inst * capacity * 2;
                for (int level = 4; level >= 1; level--)
                {
                    for (int p = 0; p < plane; p++)
                    {
                        if (levels[inst * plane + p] != level) continue;
                        int cx = p % w, cy = p / w;
                        bool keep = true;
                        for (int k = 0; k < Math.Min(count, capacity) && keep; k++)
                            keep = !Suppressed(cx - centres[at + 2 * k], cy - centres[at + 2 * k + 1], size, threshold);
                        if (!keep) continue;
                        if (count < capacity) (centres[at + 2 * count], centres[at + 2 * count + 1]) = (cx, cy);
                        count++;
                    }
                }
                counts[inst] = count;
            }
        });
        return (centres, counts);
    }

    private static unsafe void CropCpu(Tensor image, Tensor masks, int h, int w, PatchProposals proposals, int start, int k, int outSize,
        PatchNormalization normalization, Tensor output)
    {
        byte* pixels = (byte*)image.Pointer, maskData = (byte*)masks.Pointer;
        float* result = (float*)output.Pointer;
        var patches = proposals.ToArray();
        var mean = normalization.Mean;
        var inverseStd = normalization.InverseStd;
        int size = proposals.Size;
        float scale = size / (float)outSize;
        var taps = new (int Lo, int Hi, float Frac)[outSize];
        var nearest = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            // The device's half-pixel source coordinate, clamped at both edges as OpenCV does.
            float f = (o + 0.5f) * scale - 0.5f;
            int s = (int)MathF.Floor(f);
            f -= s;
            if (s < 0) (s, f) = (0, 0f);
            if (s >= size - 1) (s, f) = (size - 1, 0f);
            taps[o] = (s, Math.Min(s + 1, size - 1), f);
            nearest[o] = Math.Min((int)MathF.Floor(o * scale), size - 1);
        }
        int plane = outSize * outSize;
        CpuThreads.For(k, (first, end) =>
        {
            for (int j = first; j < end; j++)
            {
                int row = start + j, inst = patches[3 * row], x1 = patches[3 * row + 1], y1 = patches[3 * row + 2];
                float* patchOut = result + (long)j * 4 * plane;
                for (int c = 0; c < 3; c++)
                {
                    for (int oy = 0; oy < outSize; oy++)
                    {
                        var (sy, sy1, fy) = taps[oy];
                        byte* row0 = pixels + ((long)(y1 + sy) * w + x1) * 3 + c;
                        byte* row1 = pixels + ((long)(y1 + sy1) * w + x1) * 3 + c;
                        for (int ox = 0; ox < outSize; ox++)
                        {
                            var (sx, sx1, fx) = taps[ox];
                            float top = row0[sx * 3] * (1f - fx) + row0[sx1 * 3] * fx;
                            float bottom = row1[sx * 3] * (1f - fx) + row1[sx1 * 3] * fx;
                            float v = MathF.Floor(top * (1f - fy) + bottom * fy + 0.5f);
                            patchOut[c * plane + oy * outSize + ox] = (v - mean[c]) * inverseStd[c];
                        }
                    }
                }
                byte* mask = maskData + (long)inst * h * w;
                for (int oy = 0; oy < outSize; oy++)
                {
                    for (int ox = 0; ox < outSize; ox++)
                        patchOut[3 * plane + oy * outSize + ox] = mask[(long)(y1 + nearest[oy]) * w + x1 + nearest[ox]] != 0 ? 1f : -1f;
                }
            }
        });
    }

    private static unsafe void ReassembleCpu(Tensor logits, PatchProposals proposals, Tensor coarse, int n, int h, int w, Tensor refined)
    {
        float* values = (float*)logits.Pointer;
        byte* coarseData = (byte*)coarse.Pointer, output = (byte*)refined.Pointer;
        var patches = proposals.ToArray();
        var first = proposals.First;
        int size = proposals.Size, plane = size * size;
        CpuThreads.For(n * h, (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int inst = row / h, y = row % h;
                for (int x = 0; x < w; x++)
                {
                    float sum = 0f;
                    int count = 0;
                    for (int j = first[inst]; j < first[inst + 1]; j++)
                    {
                        int px = x - patches[3 * j + 1], py = y - patches[3 * j + 2];
                        if (px < 0 || py < 0 || px >= size || py >= size) continue;
                        long at = (long)j * 2 * plane + py * size + px;
                        float l0 = values[at], l1 = values[at + plane];
                        float m = MathF.Max(l0, l1);
                        float e0 = MathF.Exp(l0 - m), e1 = MathF.Exp(l1 - m);
                        sum += e1 / (e0 + e1);
                        count++;
                    }
                    long i = (long)row * w + x;
                    output[i] = count > 0 ? (byte)(sum / count > 0.5f ? 1 : 0) : (byte)(coarseData[i] != 0 ? 1 : 0);
                }
            }
        }, grain: 16);
    }

    private static unsafe void LaunchLevels(Tensor masks, int n, int h, int w, Tensor levels)
    {
        var gpu = masks.Device.Gpu;
        nint input = masks.Pointer, output = levels.Pointer;
        void** args = stackalloc void*[] { &input, &n, &h, &w, &output };
        gpu.Launch(gpu.GetKernel(Source, "boundary_levels_u8"), Dim3.Cover(levels.Numel, Threads), new Dim3(Threads), 0, args, 5);
    }

    private static unsafe (int[] Centres, int[] Counts) LaunchNms(Tensor levels, int n, int h, int w, int size, float threshold, int capacity)
    {
        var gpu = levels.Device.Gpu;
        using var centres = Tensor.Empty(levels.Device, DType.Int32, n, capacity, 2);
        using var counts = Tensor.Empty(levels.Device, DType.Int32, n);
        nint input = levels.Pointer, centrePtr = centres.Pointer, countPtr = counts.Pointer;
        void** args = stackalloc void*[] { &input, &n, &h, &w, &size, &threshold, &capacity, &centrePtr, &countPtr };
        gpu.Launch(gpu.GetKernel(Source, "boundary_patch_nms"), new Dim3((uint)n), new Dim3(Threads), 0, args, 9);
        return (centres.ToArray<int>(), counts.ToArray<int>());
    }

    private static unsafe void LaunchCrop(Tensor image, Tensor masks, int h, int w, PatchProposals proposals, int start, int k, int outSize,
        PatchNormalization normalization, Tensor output)
    {
        var gpu = masks.Device.Gpu;
        nint imagePtr = image.Pointer, maskPtr = masks.Pointer, patchPtr = proposals.Patches.Pointer + start * 3 * sizeof(int), outPtr = output.Pointer;
        int size = proposals.Size;
        var inverseStd = normalization.InverseStd;
        float m0 = normalization.Mean[0], m1 = normalization.Mean[1], m2 = normalization.Mean[2];
        float s0 = inverseStd[0], s1 = inverseStd[1], s2 = inverseStd[2];
        void** args = stackalloc void*[] { &imagePtr, &maskPtr, &h, &w, &patchPtr, &k, &size, &outSize, &m0, &m1, &m2, &s0, &s1, &s2, &outPtr };
        gpu.Launch(gpu.GetKernel(Source, "boundary_patch_crop_u8"), Dim3.Cover(output.Numel, Threads), new Dim3(Threads), 0, args, 15);
    }

    private static unsafe void LaunchReassemble(Tensor logits, PatchProposals proposals, Tensor coarse, int n, int h, int w, Tensor refined)
    {
        var gpu = coarse.Device.Gpu;
        using var hostFirst = Tensor.FromArray(proposals.First.ToArray(), n + 1);
        using var first = hostFirst.To(coarse.Device);
        nint logitPtr = logits.Pointer, patchPtr = proposals.Patches.Pointer, firstPtr = first.Pointer, coarsePtr = coarse.Pointer, outPtr = refined.Pointer;
        int size = proposals.Size;
        void** args = stackalloc void*[] { &logitPtr, &patchPtr, &firstPtr, &coarsePtr, &n, &h, &w, &size, &outPtr };
        gpu.Launch(gpu.GetKernel(Source, "boundary_patch_reassemble_f32"), Dim3.Cover(refined.Numel, Threads), new Dim3(Threads), 0, args, 9);
    }
}
