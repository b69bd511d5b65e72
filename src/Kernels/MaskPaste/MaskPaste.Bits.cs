using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskPaste;

public static partial class MaskPaste
{
    /// <summary>32-bit words of one whole-image bitmask from <see cref="PasteBits"/>.</summary>
    public static long BitWords(int imageHeight, int imageWidth) => ((long)imageHeight * imageWidth + 31) / 32;

    /// <summary>
    /// The paste (<paramref name="method"/>) of the first <paramref name="count"/>[0] masks as whole-image bitmasks, int32 [R, words]:
    /// bit b of word w is pixel p = 32w + b in column-major order (x = p / height, y = p % height), COCO RLE's
    /// order, so runs read straight off the words. The count stays on the device, so a pipeline whose
    /// detections are counted there pastes without a synchronisation; rows at or past it are left unwritten.
    /// </summary>
    /// <param name="masks">Probabilities [R, M, M] or [R, 1, M, M] (float32).</param>
    /// <param name="boxes">[R, 4] (x1, y1, x2, y2) in output-image pixels.</param>
    /// <param name="count">int64 [1] on the masks' device.</param>
    public static Tensor PasteBits(Tensor masks, Tensor boxes, Tensor count, int imageHeight, int imageWidth, PasteMethod method, float threshold = 0.5f)
    {
        int m = Validate(masks, boxes, imageHeight, imageWidth);
        Check.That(count.DType == DType.Int64 && count.Numel == 1, Op, $"count must be one int64, got {count.DType.Name()} {count.Shape}");
        Check.SameDevice(Op, masks, boxes, count);
        long words = BitWords(imageHeight, imageWidth);
        var bits = Tensor.Empty(boxes.Device, DType.Int32, boxes.Shape[0], checked((int)words));
        if (bits.Numel == 0) return bits;
        if (boxes.Device.IsCpu) RunCpuBits(masks, boxes, (int)Math.Clamp(count.AsSpan<long>()[0], 0, boxes.Shape[0]), bits, m, imageHeight, imageWidth, method, threshold);
        else LaunchBits(masks, boxes, count, bits, m, imageHeight, imageWidth, method, threshold);
        return bits;
    }

    private static unsafe void RunCpuBits(Tensor masks, Tensor boxes, int live, Tensor bits, int m, int height, int width, PasteMethod method, float threshold)
    {
        float* maskData = (float*)masks.Pointer, boxData = (float*)boxes.Pointer;
        int* outData = (int*)bits.Pointer;
        int words = bits.Shape[1];
        CpuThreads.For(live, (start, end) =>
        {
            var columns = new Column[width];
            var plane = new byte[height * width];
            for (int r = start; r < end; r++)
            {
                Array.Clear(plane);
                var mask = new ReadOnlySpan<float>(maskData + (long)r * m * m, m * m);
                var box = new ReadOnlySpan<float>(boxData + r * 4, 4);
                var region = RegionOf(box, m, height, width, method);
                var layout = new Layout(0, 0, width);
                if (method == PasteMethod.Detectron2) PasteDetectron2(mask, m, box, region, plane, layout, threshold, columns);
                else PasteTorchvision(mask, m, box, region, plane, default, layout, threshold, columns);
                var dst = new Span<int>(outData + (long)r * words, words);
                dst.Clear();
                for (int x = 0; x < width; x++)
                    for (int y = 0; y < height; y++)
                    {
                        long p = (long)x * height + y;
                        if (plane[y * width + x] != 0) dst[(int)(p / 32)] |= 1 << (int)(p % 32);
                    }
            }
        });
    }

    private static unsafe void LaunchBits(Tensor masks, Tensor boxes, Tensor count, Tensor bits, int m, int height, int width, PasteMethod method, float threshold)
    {
        var gpu = boxes.Device.Gpu;
        nint maskPtr = masks.Pointer, boxPtr = boxes.Pointer, countPtr = count.Pointer, outPtr = bits.Pointer;
        int capacity = bits.Shape[0], padding = TorchvisionPadding;
        long words = bits.Shape[1];
        int code = method == PasteMethod.Detectron2 ? 0 : 1;
        void** args = stackalloc void*[] { &maskPtr, &boxPtr, &countPtr, &outPtr, &capacity, &m, &code, &padding, &height, &width, &words, &threshold };
        gpu.Launch(gpu.GetKernel(Source, "mask_paste_bits_f32"), Dim3.Cover(bits.Numel, 256), new Dim3(256), 0, args, 12);
    }
}
