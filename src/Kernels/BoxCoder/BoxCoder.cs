using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoxCoder;

/// <summary>Box arithmetic conventions: detectron2 and torchvision agree; maskrcnn-benchmark adds 1 to sides.</summary>
public enum BoxConvention
{
    /// <summary>width = x2 − x1, x2 = ctr + w/2, clip to [0, W] (detectron2, torchvision).</summary>
    Detectron2,

    /// <summary>width = x2 − x1 + 1, x2 = ctr + w/2 − 1, clip to [0, W − 1] (maskrcnn-benchmark, MS R-CNN).</summary>
    MaskRcnnBenchmark,
}

/// <summary>Divisors of the (dx, dy, dw, dh) deltas.</summary>
public readonly record struct BoxWeights(float X, float Y, float W, float H)
{
    /// <summary>RPN proposals.</summary>
    public static BoxWeights Rpn => new(1, 1, 1, 1);

    /// <summary>The R-CNN box head.</summary>
    public static BoxWeights RoiHeads => new(10, 10, 5, 5);
}

/// <summary>Encoding and decoding of box regression deltas, and the small-box filter that follows decoding.</summary>
public static class BoxCoder
{
    /// <summary>log(1000 / 16): the largest dw, dh applied, so exp() cannot blow a box up.</summary>
    public static readonly float DefaultScaleClamp = (float)Math.Log(1000.0 / 16);

    private static KernelSource Source => KernelCatalog.Get("BoxCoder/BoxCoder.cu");

    /// <summary>
    /// Applies deltas [R, 4K] to reference boxes [R, 4] (x1, y1, x2, y2), giving [R, 4K]; with
    /// <paramref name="clipTo"/> (image height, width) the result is clipped to the image.
    /// </summary>
    public static Tensor Decode(Tensor deltas, Tensor boxes, BoxWeights weights, BoxConvention convention, (int Height, int Width)? clipTo, float? scaleClamp = null)
    {
        const string op = "box_decode";
        Check.Rank(deltas, 2, op, "deltas");
        Check.DType(deltas, DType.Float32, op, "deltas");
        Check.Rank(boxes, 2, op, "boxes");
        Check.DType(boxes, DType.Float32, op, "boxes");
        Check.That(boxes.Shape[1] == 4, op, $"boxes must be [R, 4], got {boxes.Shape}");
        Check.That(deltas.Shape[1] % 4 == 0 && deltas.Shape[0] == boxes.Shape[0], op,
            $"deltas {deltas.Shape} must be [R, 4K] for boxes {boxes.Shape}");
        Check.That(clipTo is null || (clipTo.Value.Height > 0 && clipTo.Value.Width > 0), op, $"clip size {clipTo} must be positive");
        Check.SameDevice(op, deltas, boxes);

        int rows = boxes.Shape[0], perRow = deltas.Shape[1] / 4;
        bool plusOne = convention == BoxConvention.MaskRcnnBenchmark;
        float clamp = scaleClamp ?? DefaultScaleClamp;
        float clipW = -1, clipH = -1;
        if (clipTo is { } size)
        {
            clipW = plusOne ? size.Width - 1 : size.Width;
            clipH = plusOne ? size.Height - 1 : size.Height;
        }
        var output = Tensor.Empty(deltas.Shape, DType.Float32, deltas.Device);
        if (output.Numel == 0) return output;
        if (deltas.Device.IsCpu) DecodeCpu(deltas, boxes, output, perRow, weights, clamp, plusOne, clipW, clipH);
        else LaunchDecode(deltas, boxes, output, rows, perRow, weights, clamp, plusOne, clipW, clipH);
        return output;
    }

    /// <summary>
    /// The inverse of <see cref="Decode"/>: the deltas [R, 4] that move reference boxes [R, 4] (anchors or
    /// proposals) onto target boxes [R, 4] (their matched ground truth), torchvision's BoxCoder.encode and
    /// detectron2's Box2BoxTransform.get_deltas. A zero-sized reference box gives ±inf or NaN, as upstream does.
    /// </summary>
    public static Tensor Encode(Tensor boxes, Tensor referenceBoxes, BoxWeights weights, BoxConvention convention)
    {
        const string op = "box_encode";
        Check.Rank(boxes, 2, op, "boxes");
        Check.DType(boxes, DType.Float32, op, "boxes");
        Check.Rank(referenceBoxes, 2, op, "referenceBoxes");
        Check.DType(referenceBoxes, DType.Float32, op, "referenceBoxes");
        Check.That(boxes.Shape[1] == 4 && referenceBoxes.Shape[1] == 4 && boxes.Shape[0] == referenceBoxes.Shape[0], op,
            $"boxes {boxes.Shape} and referenceBoxes {referenceBoxes.Shape} must both be [R, 4]");
        Check.SameDevice(op, boxes, referenceBoxes);

        bool plusOne = convention == BoxConvention.MaskRcnnBenchmark;
        var output = Tensor.Empty(boxes.Shape, DType.Float32, boxes.Device);
        if (output.Numel == 0) return output;
        if (boxes.Device.IsCpu) EncodeCpu(boxes, referenceBoxes, output, weights, plusOne);
        else LaunchEncode(boxes, referenceBoxes, output, weights, plusOne);
        return output;
    }

    /// <summary>
    /// uint8 [N] (1 = keep) for boxes [N, 4] (or [R, 4K], read as N = R·K boxes): both sides ≥ <paramref name="minSize"/>
    /// (torchvision's remove_small_boxes), or &gt; it when <paramref name="strict"/> (detectron2's nonempty).
    /// </summary>
    public static Tensor KeepMask(Tensor boxes, float minSize = 1e-3f, bool strict = false)
    {
        const string op = "box_keep";
        Check.Rank(boxes, 2, op, "boxes");
        Check.DType(boxes, DType.Float32, op, "boxes");
        Check.That(boxes.Shape[1] % 4 == 0, op, $"boxes must be [N, 4K], got {boxes.Shape}");
        long count = boxes.Numel / 4;
        var keep = Tensor.Empty(boxes.Device, DType.UInt8, checked((int)count));
        if (count == 0) return keep;
        if (boxes.Device.IsCpu)
        {
            var b = boxes.AsSpan<float>();
            var k = keep.AsSpan<byte>();
            for (int i = 0; i < count; i++)
            {
                float w = b[i * 4 + 2] - b[i * 4], h = b[i * 4 + 3] - b[i * 4 + 1];
                k[i] = (byte)((strict ? w > minSize && h > minSize : w >= minSize && h >= minSize) ? 1 : 0);
            }
        }
        else
        {
            LaunchKeep(boxes, keep, count, minSize, strict);
        }
        return keep;
    }

    /// <summary>
    /// Boxes [N, 4] clipped to an image of <paramref name="height"/> × <paramref name="width"/>: x into [0, width],
    /// y into [0, height], NaN kept (detectron2's Boxes.clip, as detector_postprocess applies it to the outputs).
    /// </summary>
    public static Tensor Clip(Tensor boxes, int height, int width)
    {
        const string op = "box_clip";
        Check.Rank(boxes, 2, op, "boxes");
        Check.DType(boxes, DType.Float32, op, "boxes");
        Check.That(boxes.Shape[1] == 4, op, $"boxes must be [N, 4], got {boxes.Shape}");
        Check.That(height >= 0 && width >= 0, op, $"image size {height}x{width} must not be negative");
        var output = Tensor.Empty(boxes.Shape, DType.Float32, boxes.Device);
        long count = boxes.Shape[0];
        if (count == 0) return output;
        if (boxes.Device.IsCpu)
        {
            var b = boxes.AsSpan<float>();
            var o = output.AsSpan<float>();
            for (int i = 0; i < b.Length; i++) o[i] = Clamp(b[i], i % 2 == 0 ? width : height);
        }
        else
        {
            LaunchClip(boxes, output, count, height, width);
        }
        return output;
    }

    private static unsafe void DecodeCpu(Tensor deltas, Tensor boxes, Tensor output, int perRow, BoxWeights wt, float clamp, bool plusOne, float clipW, float clipH)
    {
        float* d = (float*)deltas.Pointer, b = (float*)boxes.Pointer, o = (float*)output.Pointer;
        float extra = plusOne ? 1f : 0f;
        CpuThreads.For(boxes.Shape[0], (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                float* box = b + r * 4;
                float width = box[2] - box[0] + extra, height = box[3] - box[1] + extra;
                float ctrX = box[0] + 0.5f * width, ctrY = box[1] + 0.5f * height;
                for (int k = 0; k < perRow; k++)
                {
                    long i = (long)r * perRow + k;
                    float* delta = d + i * 4;
                    float dx = delta[0] / wt.X, dy = delta[1] / wt.Y, dw = delta[2] / wt.W, dh = delta[3] / wt.H;
                    dw = dw > clamp ? clamp : dw;
                    dh = dh > clamp ? clamp : dh;
                    float predX = dx * width + ctrX, predY = dy * height + ctrY;
                    float predW = MathF.Exp(dw) * width, predH = MathF.Exp(dh) * height;
                    float halfW = 0.5f * predW, halfH = 0.5f * predH;
                    float x1 = predX - halfW, y1 = predY - halfH, x2 = predX + halfW - extra, y2 = predY + halfH - extra;
                    if (clipW >= 0)
                    {
                        x1 = Clamp(x1, clipW);
                        x2 = Clamp(x2, clipW);
                        y1 = Clamp(y1, clipH);
                        y2 = Clamp(y2, clipH);
                    }
                    float* dst = o + i * 4;
                    dst[0] = x1;
                    dst[1] = y1;
                    dst[2] = x2;
                    dst[3] = y2;
                }
            }
        });
    }

    private static unsafe void EncodeCpu(Tensor boxes, Tensor referenceBoxes, Tensor output, BoxWeights wt, bool plusOne)
    {
        float* t = (float*)boxes.Pointer, r = (float*)referenceBoxes.Pointer, o = (float*)output.Pointer;
        float extra = plusOne ? 1f : 0f;
        CpuThreads.For(boxes.Shape[0], (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                float* reference = r + i * 4, target = t + i * 4;
                float refW = reference[2] - reference[0] + extra, refH = reference[3] - reference[1] + extra;
                float refX = reference[0] + 0.5f * refW, refY = reference[1] + 0.5f * refH;
                float width = target[2] - target[0] + extra, height = target[3] - target[1] + extra;
                float ctrX = target[0] + 0.5f * width, ctrY = target[1] + 0.5f * height;
                float* dst = o + i * 4;
                // Weight times offset, then divided: torch evaluates wx * (gt_ctr - ex_ctr) / ex_w left to right.
                dst[0] = wt.X * (ctrX - refX) / refW;
                dst[1] = wt.Y * (ctrY - refY) / refH;
                dst[2] = wt.W * MathF.Log(width / refW);
                dst[3] = wt.H * MathF.Log(height / refH);
            }
        });
    }

    /// <summary>torch.clamp(v, 0, hi): NaN passes through.</summary>
    private static float Clamp(float v, float hi) => v < 0 ? 0 : v > hi ? hi : v;

    private static unsafe void LaunchDecode(Tensor deltas, Tensor boxes, Tensor output, int rows, int perRow, BoxWeights wt, float clamp, bool plusOne, float clipW, float clipH)
    {
        var gpu = deltas.Device.Gpu;
        nint d = deltas.Pointer, b = boxes.Pointer, o = output.Pointer;
        float wx = wt.X, wy = wt.Y, ww = wt.W, wh = wt.H;
        int plus = plusOne ? 1 : 0;
        void** args = stackalloc void*[] { &d, &b, &o, &rows, &perRow, &wx, &wy, &ww, &wh, &clamp, &plus, &clipW, &clipH };
        gpu.Launch(gpu.GetKernel(Source, "box_decode_f32"), Dim3.Cover((long)rows * perRow, 256), new Dim3(256), 0, args, 13);
    }

    private static unsafe void LaunchEncode(Tensor boxes, Tensor referenceBoxes, Tensor output, BoxWeights wt, bool plusOne)
    {
        var gpu = boxes.Device.Gpu;
        nint t = boxes.Pointer, r = referenceBoxes.Pointer, o = output.Pointer;
        int rows = boxes.Shape[0], plus = plusOne ? 1 : 0;
        float wx = wt.X, wy = wt.Y, ww = wt.W, wh = wt.H;
        void** args = stackalloc void*[] { &t, &r, &o, &rows, &wx, &wy, &ww, &wh, &plus };
        gpu.Launch(gpu.GetKernel(Source, "box_encode_f32"), Dim3.Cover(rows, 256), new Dim3(256), 0, args, 9);
    }

    private static unsafe void LaunchClip(Tensor boxes, Tensor output, long count, int height, int width)
    {
        var gpu = boxes.Device.Gpu;
        nint b = boxes.Pointer, o = output.Pointer;
        float h = height, w = width;
        void** args = stackalloc void*[] { &b, &o, &count, &h, &w };
        gpu.Launch(gpu.GetKernel(Source, "box_clip_f32"), Dim3.Cover(count, 256), new Dim3(256), 0, args, 5);
    }

    private static unsafe void LaunchKeep(Tensor boxes, Tensor keep, long count, float minSize, bool strict)
    {
        var gpu = boxes.Device.Gpu;
        nint b = boxes.Pointer, k = keep.Pointer;
        int s = strict ? 1 : 0;
        void** args = stackalloc void*[] { &b, &k, &count, &minSize, &s };
        gpu.Launch(gpu.GetKernel(Source, "box_keep_f32"), Dim3.Cover(count, 256), new Dim3(256), 0, args, 5);
    }
}
