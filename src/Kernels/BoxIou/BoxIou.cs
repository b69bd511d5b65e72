using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoxIou;

/// <summary>What an IoU is when two boxes do not overlap with positive area; the flavours differ only there.</summary>
public enum IouZeroArea
{
    /// <summary>
    /// torchvision's box_iou: inter / (area1 + area2 − inter) always, so two zero-area boxes give NaN (0/0)
    /// and an inverted box's negative area can give a negative or infinite IoU.
    /// </summary>
    Divide,

    /// <summary>detectron2's pairwise_iou: 0 wherever the intersection is not positive.</summary>
    Zero,
}

/// <summary>
/// Pairwise intersection over union of boxes (x1, y1, x2, y2), widths x2 − x1 (no +1). For boxes of
/// positive area the two conventions agree exactly.
/// </summary>
public static class BoxIou
{
    private const string Op = "box_iou";

    private static KernelSource Source => KernelCatalog.Get("BoxIou/BoxIou.cu");

    /// <summary>IoU float32 [G, A] of every box of <paramref name="boxes1"/> [G, 4] with every box of <paramref name="boxes2"/> [A, 4].</summary>
    public static Tensor Pairwise(Tensor boxes1, Tensor boxes2, IouZeroArea zeroArea = IouZeroArea.Divide)
    {
        Check.Rank(boxes1, 2, Op, "boxes1");
        Check.DType(boxes1, DType.Float32, Op, "boxes1");
        Check.Rank(boxes2, 2, Op, "boxes2");
        Check.DType(boxes2, DType.Float32, Op, "boxes2");
        Check.That(boxes1.Shape[1] == 4, Op, $"boxes1 must be [G, 4], got {boxes1.Shape}");
        Check.That(boxes2.Shape[1] == 4, Op, $"boxes2 must be [A, 4], got {boxes2.Shape}");
        Check.SameDevice(Op, boxes1, boxes2);

        int rows = boxes1.Shape[0], cols = boxes2.Shape[0];
        var output = Tensor.Empty(boxes1.Device, DType.Float32, rows, cols);
        if (output.Numel == 0) return output;
        bool zero = zeroArea == IouZeroArea.Zero;
        if (boxes1.Device.IsCpu) RunCpu(boxes1, boxes2, output, rows, cols, zero);
        else Launch(boxes1, boxes2, output, rows, cols, zero);
        return output;
    }

    private static unsafe void RunCpu(Tensor boxes1, Tensor boxes2, Tensor output, int rows, int cols, bool zero)
    {
        float* p = (float*)boxes1.Pointer, q = (float*)boxes2.Pointer, o = (float*)output.Pointer;
        CpuThreads.For(rows, (start, end) =>
        {
            for (int g = start; g < end; g++)
            {
                float* a = p + g * 4;
                float area1 = (a[2] - a[0]) * (a[3] - a[1]);
                for (int j = 0; j < cols; j++)
                {
                    float* b = q + j * 4;
                    float area2 = (b[2] - b[0]) * (b[3] - b[1]);
                    // MinNumber/MaxNumber ignore a NaN operand as the device's fminf/fmaxf do.
                    float w = float.MinNumber(a[2], b[2]) - float.MaxNumber(a[0], b[0]);
                    float h = float.MinNumber(a[3], b[3]) - float.MaxNumber(a[1], b[1]);
                    w = w < 0 ? 0 : w;
                    h = h < 0 ? 0 : h;
                    float inter = w * h;
                    float iou = inter / (area1 + area2 - inter);
                    o[(long)g * cols + j] = zero && !(inter > 0) ? 0 : iou;
                }
            }
        });
    }

    private static unsafe void Launch(Tensor boxes1, Tensor boxes2, Tensor output, int rows, int cols, bool zero)
    {
        var gpu = boxes1.Device.Gpu;
        nint p = boxes1.Pointer, q = boxes2.Pointer, o = output.Pointer;
        int z = zero ? 1 : 0;
        void** args = stackalloc void*[] { &p, &q, &o, &rows, &cols, &z };
        gpu.Launch(gpu.GetKernel(Source, "box_iou_f32"), Dim3.Cover((long)rows * cols, 256), new Dim3(256), 0, args, 6);
    }
}
