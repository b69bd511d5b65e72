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

/// <summary>Pastes per-instance mask probabilities [R, M, M] into binary image masks uint8 [R, H, W].</summary>
public static class MaskPaste
{
    private const string Op = "mask_paste";

    /// <summary>Zero border torchvision adds around the mask before resizing.</summary>
    public const int TorchvisionPadding = 1;

    private static KernelSource Source => KernelCatalog.Get("MaskPaste/MaskPaste.cu");

    /// <param name="masks">Probabilities [R, M, M] or [R, 1, M, M] (float32).</param>
    /// <param name="boxes">[R, 4] (x1, y1, x2, y2) in output-image pixels.</param>
    public static Tensor Paste(Tensor masks, Tensor boxes, int imageHeight, int imageWidth, PasteMethod method, float threshold = 0.5f)
    {
        int m = Validate(masks, boxes, imageHeight, imageWidth);
        var output = Tensor.Empty(boxes.Device, DType.UInt8, boxes.Shape[0], imageHeight, imageWidth);
        if (output.Numel == 0) return output;
        if (boxes.Device.IsCpu) RunCpu(masks, boxes, output, m, method, threshold);
        else Launch(masks, boxes, output, m, method, threshold);
        return output;
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
        if (boxes.Device.IsCpu) RunCpu(masks, boxes, output, m, PasteMethod.Torchvision, 0);
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

    /// <summary>Binary masks into a uint8 output; a float32 output (torchvision only) receives the probabilities.</summary>
    private static unsafe void RunCpu(Tensor masks, Tensor boxes, Tensor output, int m, PasteMethod method, float threshold)
    {
        int count = output.Shape[0], height = output.Shape[1], width = output.Shape[2];
        float* maskData = (float*)masks.Pointer, boxData = (float*)boxes.Pointer;
        bool probabilities = output.DType == DType.Float32;
        nint outData = output.Pointer;
        CpuThreads.For(count, (start, end) =>
        {
            var columns = new Column[width];
            for (int r = start; r < end; r++)
            {
                int plane = height * width;
                var binary = probabilities ? default : new Span<byte>((byte*)outData + (long)r * plane, plane);
                var probs = probabilities ? new Span<float>((float*)outData + (long)r * plane, plane) : default;
                binary.Clear();
                probs.Clear();
                var mask = new ReadOnlySpan<float>(maskData + (long)r * m * m, m * m);
                var box = new ReadOnlySpan<float>(boxData + r * 4, 4);
                if (method == PasteMethod.Detectron2) PasteDetectron2(mask, m, box, binary, height, width, threshold, columns);
                else PasteTorchvision(mask, m, box, binary, probs, height, width, threshold, columns);
            }
        });
    }

    private static float Tap(ReadOnlySpan<float> mask, int m, int y, int x) =>
        (uint)y < (uint)m && (uint)x < (uint)m ? mask[y * m + x] : 0f;

    /// <summary>An output column's interpolation taps and weights, the same for every row of one mask.</summary>
    private record struct Column(int I0, int I1, float W0, float W1);

    private static void PasteDetectron2(ReadOnlySpan<float> mask, int m, ReadOnlySpan<float> box, Span<byte> dst, int height, int width, float threshold, Column[] columns)
    {
        float x0 = box[0], y0 = box[1], x1 = box[2], y1 = box[3];
        // Pixels further than one pixel outside the box cannot reach 0.5; detectron2's CPU path skips them.
        int xLo = (int)MathF.Max(MathF.Floor(x0) - 1, 0), yLo = (int)MathF.Max(MathF.Floor(y0) - 1, 0);
        int xHi = (int)MathF.Min(MathF.Ceiling(x1) + 1, width), yHi = (int)MathF.Min(MathF.Ceiling(y1) + 1, height);
        float half = m / 2f;
        for (int x = xLo; x < xHi; x++)
        {
            float gx = (x + 0.5f - x0) / (x1 - x0) * 2f - 1f;
            float ix = (gx + 1f) * half - 0.5f;
            float fx = MathF.Floor(ix), w = ix - fx;
            columns[x] = new Column((int)fx, (int)fx + 1, 1f - w, w);
        }
        for (int y = yLo; y < yHi; y++)
        {
            float gy = (y + 0.5f - y0) / (y1 - y0) * 2f - 1f;
            float iy = (gy + 1f) * half - 0.5f;
            float fy = MathF.Floor(iy), n = iy - fy, s = 1f - n;
            int cy = (int)fy;
            var row = dst.Slice(y * width, width);
            for (int x = xLo; x < xHi; x++)
            {
                var c = columns[x];
                float v = Tap(mask, m, cy, c.I0) * (s * c.W0);
                v += Tap(mask, m, cy, c.I1) * (s * c.W1);
                v += Tap(mask, m, cy + 1, c.I0) * (n * c.W0);
                v += Tap(mask, m, cy + 1, c.I1) * (n * c.W1);
                row[x] = (byte)(v >= threshold ? 1 : 0);
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

    /// <summary>Writes <paramref name="probs"/> when it is not empty, else the thresholded <paramref name="binary"/>.</summary>
    private static void PasteTorchvision(ReadOnlySpan<float> mask, int m, ReadOnlySpan<float> box, Span<byte> binary, Span<float> probs, int height, int width, float threshold, Column[] columns)
    {
        const int p = TorchvisionPadding;
        int padded = m + 2 * p;
        float scale = (float)padded / m;
        float wHalf = (box[2] - box[0]) * 0.5f * scale, hHalf = (box[3] - box[1]) * 0.5f * scale;
        float xc = (box[2] + box[0]) * 0.5f, yc = (box[3] + box[1]) * 0.5f;
        long bx0 = (long)(xc - wHalf), bx1 = (long)(xc + wHalf), by0 = (long)(yc - hHalf), by1 = (long)(yc + hHalf);
        int bw = (int)Math.Max(bx1 - bx0 + 1, 1), bh = (int)Math.Max(by1 - by0 + 1, 1);
        int xStart = (int)Math.Max(bx0, 0), xEnd = (int)Math.Min(bx1 + 1, width);
        int yStart = (int)Math.Max(by0, 0), yEnd = (int)Math.Min(by1 + 1, height);
        // Taps index the padded mask; shifting by the padding reads the zero border as "outside".
        for (int x = xStart; x < xEnd; x++)
        {
            var c = Linear((int)(x - bx0), padded, bw);
            columns[x] = c with { I0 = c.I0 - p, I1 = c.I1 - p };
        }
        for (int y = yStart; y < yEnd; y++)
        {
            var r = Linear((int)(y - by0), padded, bh);
            int y0 = r.I0 - p, y1 = r.I1 - p;
            for (int x = xStart; x < xEnd; x++)
            {
                var c = columns[x];
                float top = Tap(mask, m, y0, c.I0) * c.W0 + Tap(mask, m, y0, c.I1) * c.W1;
                float bottom = Tap(mask, m, y1, c.I0) * c.W0 + Tap(mask, m, y1, c.I1) * c.W1;
                float v = top * r.W0 + bottom * r.W1;
                if (probs.IsEmpty) binary[y * width + x] = (byte)(v > threshold ? 1 : 0);
                else probs[y * width + x] = v;
            }
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
