using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskPaste;

/// <summary>How a box-relative mask becomes image pixels; the two methods disagree on ~5% of a mask's pixels.</summary>
public enum PasteMethod
{
    /// <summary>
    /// detectron2's _do_paste_mask: bilinear grid_sample (zero padding, align_corners=False) of the mask
    /// over its float box at every pixel centre; binary where the probability is ≥ the threshold.
    /// </summary>
    Detectron2,

    /// <summary>
    /// torchvision's paste_masks_in_image (and maskrcnn-benchmark's Masker): mask padded by one pixel, box
    /// expanded to match and truncated to integers, mask resized bilinearly to the box; binary where &gt; threshold.
    /// </summary>
    Torchvision,
}

/// <summary>
/// Pastes per-instance mask probabilities [R, M, M] into binary image masks, each over its own
/// <see cref="PasteRegion"/> only (see <see cref="MaskRleEncoder"/> for whole images in bounded memory).
/// </summary>
public static partial class MaskPaste
{
    private const string Op = "mask_paste";

    /// <summary>Zero border torchvision adds around the mask before resizing.</summary>
    public const int TorchvisionPadding = 1;

    private static KernelSource Source => KernelCatalog.Get("MaskPaste/MaskPaste.cu");

    /// <summary>The region of each box (any device) in an image of the given size.</summary>
    /// <param name="m">The masks' side: torchvision's expanded box depends on it.</param>
    public static PasteRegion[] Regions(Tensor boxes, int m, int imageHeight, int imageWidth, PasteMethod method)
    {
        Check.Rank(boxes, 2, Op, "boxes");
        Check.DType(boxes, DType.Float32, Op, "boxes");
        Check.That(boxes.Shape[1] == 4, Op, $"boxes must be [R, 4], got {boxes.Shape}");
        var values = boxes.ToArray<float>();
        var regions = new PasteRegion[boxes.Shape[0]];
        for (int r = 0; r < regions.Length; r++) regions[r] = RegionOf(values.AsSpan(r * 4, 4), m, imageHeight, imageWidth, method);
        return regions;
    }

    /// <param name="masks">Probabilities [R, M, M] or [R, 1, M, M] (float32).</param>
    /// <param name="boxes">[R, 4] (x1, y1, x2, y2) in output-image pixels.</param>
    /// <returns>Each mask's region of the image, row-major, the regions one after another in a uint8 tensor.</returns>
    public static PastedMasks Paste(Tensor masks, Tensor boxes, int imageHeight, int imageWidth, PasteMethod method, float threshold = 0.5f)
    {
        int m = Validate(masks, boxes, imageHeight, imageWidth);
        var regions = Regions(boxes, m, imageHeight, imageWidth, method);
        var offsets = new long[regions.Length + 1];
        for (int r = 0; r < regions.Length; r++) offsets[r + 1] = offsets[r] + regions[r].Area;
        Check.That(offsets[^1] <= int.MaxValue, Op, $"the {regions.Length} masks' regions hold {offsets[^1]} pixels, more than one tensor can; paste fewer at a time (MaskRleEncoder does)");
        var bits = Tensor.Empty(boxes.Device, DType.UInt8, (int)offsets[^1]);
        var pasted = new PastedMasks(bits, regions, offsets, imageHeight, imageWidth);
        if (bits.Numel == 0) return pasted;
        if (boxes.Device.IsCpu) RunCpu(masks, boxes, pasted, m, method, threshold);
        else Launch(masks, boxes, pasted, m, method, threshold);
        return pasted;
    }

    /// <summary>
    /// torchvision's paste_masks_in_image as it is: the pasted probabilities, float32 [R, H, W], 0 outside
    /// each expanded box (the parity harness compares these before any threshold).
    /// </summary>
    public static Tensor PasteProbabilities(Tensor masks, Tensor boxes, int imageHeight, int imageWidth)
    {
        int m = Validate(masks, boxes, imageHeight, imageWidth);
        var output = Tensor.Empty(boxes.Device, DType.Float32, boxes.Shape[0], imageHeight, imageWidth);
        if (output.Numel == 0) return output;
        if (boxes.Device.IsCpu) RunCpuProbabilities(masks, boxes, output, m);
        else LaunchProbabilities(masks, boxes, output, m);
        return output;
    }

    private static int Validate(Tensor masks, Tensor boxes, int imageHeight, int imageWidth)
    {
        Check.DType(masks, DType.Float32, Op, "masks");
        Check.That(masks.Rank == 3 || (masks.Rank == 4 && masks.Shape[1] == 1), Op, $"masks must be [R, M, M] or [R, 1, M, M], got {masks.Shape}");
        int m = masks.Shape[masks.Rank - 1];
        Check.That(masks.Shape[masks.Rank - 2] == m && m > 0, Op, $"masks must be square and non-empty, got {masks.Shape}");
        Check.Rank(boxes, 2, Op, "boxes");
        Check.DType(boxes, DType.Float32, Op, "boxes");
        Check.That(boxes.Shape[1] == 4 && boxes.Shape[0] == masks.Shape[0], Op, $"boxes {boxes.Shape} must be [R, 4] for masks {masks.Shape}");
        Check.That(imageHeight >= 0 && imageWidth >= 0, Op, $"image size {imageHeight}x{imageWidth} must not be negative");
        Check.SameDevice(Op, masks, boxes);
        return m;
    }

    /// <summary>The pixels the method can set for <paramref name="box"/>, clipped to the image.</summary>
    private static PasteRegion RegionOf(ReadOnlySpan<float> box, int m, int height, int width, PasteMethod method)
    {
        if (method == PasteMethod.Torchvision)
        {
            var e = TorchvisionBox.Of(box, m);
            return PasteRegion.Between(Math.Max(e.X0, 0), Math.Max(e.Y0, 0), Math.Min(e.X1 + 1, width), Math.Min(e.Y1 + 1, height));
        }
        // Pixels further than one pixel outside the box cannot reach 0.5; detectron2's CPU path skips them.
        int xLo = (int)MathF.Max(MathF.Floor(box[0]) - 1, 0), yLo = (int)MathF.Max(MathF.Floor(box[1]) - 1, 0);
        int xHi = (int)MathF.Min(MathF.Ceiling(box[2]) + 1, width), yHi = (int)MathF.Min(MathF.Ceiling(box[3]) + 1, height);
        return PasteRegion.Between(xLo, yLo, xHi, yHi);
    }

    /// <summary>Where image pixel (x, y) lands in an output buffer: index (y − Top)·Stride + x − Left.</summary>
    private readonly record struct Layout(int Left, int Top, int Stride)
    {
        public int Index(int x, int y) => (y - Top) * Stride + x - Left;
    }

    private static unsafe void RunCpu(Tensor masks, Tensor boxes, PastedMasks pasted, int m, PasteMethod method, float threshold)
    {
        float* maskData = (float*)masks.Pointer, boxData = (float*)boxes.Pointer;
        byte* outData = (byte*)pasted.Bits.Pointer;
        int width = pasted.ImageWidth;
        CpuThreads.For(pasted.Regions.Count, (start, end) =>
        {
            var columns = new Column[width];
            for (int r = start; r < end; r++)
            {
                var region = pasted.Regions[r];
                var dst = new Span<byte>(outData + pasted.Offset(r), (int)region.Area);
                var layout = new Layout(region.X, region.Y, region.Width);
                var mask = new ReadOnlySpan<float>(maskData + (long)r * m * m, m * m);
                var box = new ReadOnlySpan<float>(boxData + r * 4, 4);
                if (method == PasteMethod.Detectron2) PasteDetectron2(mask, m, box, region, dst, layout, threshold, columns);
                else PasteTorchvision(mask, m, box, region, dst, default, layout, threshold, columns);
            }
        });
    }

    private static unsafe void RunCpuProbabilities(Tensor masks, Tensor boxes, Tensor output, int m)
    {
        int height = output.Shape[1], width = output.Shape[2];
        float* maskData = (float*)masks.Pointer, boxData = (float*)boxes.Pointer;
        nint outData = output.Pointer;
        CpuThreads.For(output.Shape[0], (start, end) =>
        {
            var columns = new Column[width];
            for (int r = start; r < end; r++)
            {
                int plane = height * width;
                var probs = new Span<float>((float*)outData + (long)r * plane, plane);
                probs.Clear();
                var mask = new ReadOnlySpan<float>(maskData + (long)r * m * m, m * m);
                var box = new ReadOnlySpan<float>(boxData + r * 4, 4);
                var region = RegionOf(box, m, height, width, PasteMethod.Torchvision);
                PasteTorchvision(mask, m, box, region, default, probs, new Layout(0, 0, width), 0, columns);
            }
        });
    }

    private static float Tap(ReadOnlySpan<float> mask, int m, int y, int x) =>
        (uint)y < (uint)m && (uint)x < (uint)m ? mask[y * m + x] : 0f;

    /// <summary>An output column's interpolation taps and weights, the same for every row of one mask.</summary>
    private record struct Column(int I0, int I1, float W0, float W1);

    private static void PasteDetectron2(ReadOnlySpan<float> mask, int m, ReadOnlySpan<float> box, PasteRegion region, Span<byte> dst, Layout layout, float threshold, Column[] columns)
    {
        float x0 = box[0], y0 = box[1], x1 = box[2], y1 = box[3];
        int xLo = region.X, xHi = region.X + region.Width;
        float half = m / 2f;
        for (int x = xLo; x < xHi; x++)
        {
            float gx = (x + 0.5f - x0) / (x1 - x0) * 2f - 1f;
            float ix = (gx + 1f) * half - 0.5f;
            float fx = MathF.Floor(ix), w = ix - fx;
            columns[x] = new Column((int)fx, (int)fx + 1, 1f - w, w);
        }
        for (int y = region.Y; y < region.Y + region.Height; y++)
        {
            float gy = (y + 0.5f - y0) / (y1 - y0) * 2f - 1f;
            float iy = (gy + 1f) * half - 0.5f;
            float fy = MathF.Floor(iy), n = iy - fy, s = 1f - n;
            int cy = (int)fy;
            for (int x = xLo; x < xHi; x++)
            {
                var c = columns[x];
                float v = Tap(mask, m, cy, c.I0) * (s * c.W0);
                v += Tap(mask, m, cy, c.I1) * (s * c.W1);
                v += Tap(mask, m, cy + 1, c.I0) * (n * c.W0);
                v += Tap(mask, m, cy + 1, c.I1) * (n * c.W1);
                dst[layout.Index(x, y)] = (byte)(v >= threshold ? 1 : 0);
            }
        }
    }

    /// <summary>upsample_bilinear2d's source indices and weights along one axis (see mp_linear in the kernel).</summary>
    private static Column Linear(int dst, int inSize, int outSize)
    {
        if (inSize == outSize) return new Column(dst, dst, 1f, 0f);
        float scale = (float)inSize / outSize;
        float src = MathF.FusedMultiplyAdd(scale, dst + 0.5f, -0.5f);
        if (src < 0) src = 0;
        int i0 = (int)src;
        float l1 = MathF.Min(MathF.Max(src - i0, 0f), 1f);
        return new Column(i0, i0 + (i0 < inSize - 1 ? 1 : 0), 1f - l1, l1);
    }

    /// <summary>
    /// torchvision's integer box: the float box expanded by (M + 2p) / M about its centre and truncated; the
    /// padded mask is resized to its Width × Height pixels.
    /// </summary>
    private readonly record struct TorchvisionBox(long X0, long Y0, long X1, long Y1)
    {
        public int Width => (int)Math.Max(X1 - X0 + 1, 1);

        public int Height => (int)Math.Max(Y1 - Y0 + 1, 1);

        public static TorchvisionBox Of(ReadOnlySpan<float> box, int m)
        {
            float scale = (float)(m + 2 * TorchvisionPadding) / m;
            float wHalf = (box[2] - box[0]) * 0.5f * scale, hHalf = (box[3] - box[1]) * 0.5f * scale;
            float xc = (box[2] + box[0]) * 0.5f, yc = (box[3] + box[1]) * 0.5f;
            return new((long)(xc - wHalf), (long)(yc - hHalf), (long)(xc + wHalf), (long)(yc + hHalf));
        }
    }

    /// <summary>Writes <paramref name="probs"/> when it is not empty, else the thresholded <paramref name="binary"/>.</summary>
    private static void PasteTorchvision(ReadOnlySpan<float> mask, int m, ReadOnlySpan<float> box, PasteRegion region, Span<byte> binary, Span<float> probs, Layout layout, float threshold, Column[] columns)
    {
        const int p = TorchvisionPadding;
        int padded = m + 2 * p;
        var e = TorchvisionBox.Of(box, m);
        int bw = e.Width, bh = e.Height;
        int xStart = region.X, xEnd = region.X + region.Width;
        // Taps index the padded mask; shifting by the padding reads the zero border as "outside".
        for (int x = xStart; x < xEnd; x++)
        {
            var c = Linear((int)(x - e.X0), padded, bw);
            columns[x] = c with { I0 = c.I0 - p, I1 = c.I1 - p };
        }
        for (int y = region.Y; y < region.Y + region.Height; y++)
        {
            var r = Linear((int)(y - e.Y0), padded, bh);
            int y0 = r.I0 - p, y1 = r.I1 - p;
            for (int x = xStart; x < xEnd; x++)
            {
                var c = columns[x];
                float top = Tap(mask, m, y0, c.I0) * c.W0 + Tap(mask, m, y0, c.I1) * c.W1;
                float bottom = Tap(mask, m, y1, c.I0) * c.W0 + Tap(mask, m, y1, c.I1) * c.W1;
                float v = top * r.W0 + bottom * r.W1;
                if (probs.IsEmpty) binary[layout.Index(x, y)] = (byte)(v > threshold ? 1 : 0);
                else probs[layout.Index(x, y)] = v;
            }
        }
    }

    private static unsafe void Launch(Tensor masks, Tensor boxes, PastedMasks pasted, int m, PasteMethod method, float threshold)
    {
        var gpu = boxes.Device.Gpu;
        var flat = new int[pasted.Regions.Count * 4];
        for (int r = 0; r < pasted.Regions.Count; r++)
        {
            var region = pasted.Regions[r];
            (flat[r * 4], flat[r * 4 + 1], flat[r * 4 + 2], flat[r * 4 + 3]) = (region.X, region.Y, region.Width, region.Height);
        }
        using var hostRegions = Tensor.FromArray(flat, pasted.Regions.Count, 4);
        using var hostOffsets = Tensor.FromArray(pasted.Offsets, pasted.Offsets.Length);
        using var regions = hostRegions.To(boxes.Device);
        using var offsets = hostOffsets.To(boxes.Device);
        nint maskPtr = masks.Pointer, boxPtr = boxes.Pointer, regionPtr = regions.Pointer, offsetPtr = offsets.Pointer, outPtr = pasted.Bits.Pointer;
        int count = pasted.Regions.Count, padding = TorchvisionPadding;
        var grid = Dim3.Cover(pasted.Bits.Numel, 256);
        if (method == PasteMethod.Detectron2)
        {
            void** args = stackalloc void*[] { &maskPtr, &boxPtr, &regionPtr, &offsetPtr, &outPtr, &count, &m, &threshold };
            gpu.Launch(gpu.GetKernel(Source, "mask_paste_regions_detectron2_f32"), grid, new Dim3(256), 0, args, 8);
        }
        else
        {
            void** args = stackalloc void*[] { &maskPtr, &boxPtr, &regionPtr, &offsetPtr, &outPtr, &count, &m, &padding, &threshold };
            gpu.Launch(gpu.GetKernel(Source, "mask_paste_regions_torchvision_f32"), grid, new Dim3(256), 0, args, 9);
        }
    }

    private static unsafe void Launch(Tensor masks, Tensor boxes, Tensor output, int m, PasteMethod method, float threshold)
    {
        var gpu = boxes.Device.Gpu;
        nint maskPtr = masks.Pointer, boxPtr = boxes.Pointer, outPtr = output.Pointer;
        int count = output.Shape[0], height = output.Shape[1], width = output.Shape[2], padding = TorchvisionPadding;
        var grid = Dim3.Cover(output.Numel, 256);
        if (method == PasteMethod.Detectron2)
        {
            void** args = stackalloc void*[] { &maskPtr, &boxPtr, &outPtr, &count, &m, &height, &width, &threshold };
            gpu.Launch(gpu.GetKernel(Source, "mask_paste_detectron2_f32"), grid, new Dim3(256), 0, args, 8);
        }
        else
        {
            void** args = stackalloc void*[] { &maskPtr, &boxPtr, &outPtr, &count, &m, &padding, &height, &width, &threshold };
            gpu.Launch(gpu.GetKernel(Source, "mask_paste_torchvision_f32"), grid, new Dim3(256), 0, args, 9);
        }
    }

    private static unsafe void LaunchProbabilities(Tensor masks, Tensor boxes, Tensor output, int m)
    {
        var gpu = boxes.Device.Gpu;
        nint maskPtr = masks.Pointer, boxPtr = boxes.Pointer, outPtr = output.Pointer;
        int count = output.Shape[0], height = output.Shape[1], width = output.Shape[2], padding = TorchvisionPadding;
        void** args = stackalloc void*[] { &maskPtr, &boxPtr, &outPtr, &count, &m, &padding, &height, &width };
        gpu.Launch(gpu.GetKernel(Source, "mask_paste_torchvision_prob_f32"), Dim3.Cover(output.Numel, 256), new Dim3(256), 0, args, 8);
    }
}
