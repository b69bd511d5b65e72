using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Transpose;

/// <summary>
/// x.transpose(-2, -1).contiguous() for a tensor read as [batch, rows, cols, element], where the element is the
/// trailing <c>elementDims</c> dimensions kept whole (a box's four coordinates, say): what turns a head's
/// [N, A, H·W] layout into the anchors' [N, H·W, A] order on the device.
/// </summary>
public static class Transpose
{
    private const string Op = "transpose";

    private static KernelSource Source => KernelCatalog.Get("Transpose/Transpose.cu");

    /// <summary>Swaps the two dimensions before the last <paramref name="elementDims"/> of <paramref name="x"/>.</summary>
    public static Tensor LastTwo(Tensor x, int elementDims = 0)
    {
        Check.That(elementDims >= 0 && x.Rank >= elementDims + 2, Op, $"input {x.Shape} needs two dimensions before its {elementDims} element dimensions");
        int rowsDim = x.Rank - elementDims - 2;
        int rows = x.Shape[rowsDim], cols = x.Shape[rowsDim + 1];
        long batch = 1, element = x.DType.SizeOf();
        for (int d = 0; d < rowsDim; d++) batch *= x.Shape[d];
        for (int d = rowsDim + 2; d < x.Rank; d++) element *= x.Shape[d];
        Check.That(element % 4 == 0, Op, $"elements of {element} bytes ({x.DType.Name()} {x.Shape}) are not whole 32-bit words");
        var dims = x.Shape.ToArray();
        (dims[rowsDim], dims[rowsDim + 1]) = (cols, rows);
        var y = Tensor.Empty(new Shape(dims), x.DType, x.Device);
        if (y.Numel == 0) return y;
        int width = (int)(element / 4);
        if (x.Device.IsCpu) RunCpu(x, y, batch, rows, cols, width);
        else Launch(x, y, batch, rows, cols, width);
        return y;
    }

    private static unsafe void RunCpu(Tensor x, Tensor y, long batch, int rows, int cols, int width)
    {
        uint* src = (uint*)x.Pointer, dst = (uint*)y.Pointer;
        CpuThreads.For(checked((int)(batch * cols)), (start, end) =>
        {
            for (int bc = start; bc < end; bc++)
            {
                long b = bc / cols;
                int c = bc % cols;
                for (int r = 0; r < rows; r++)
                    for (int w = 0; w < width; w++)
                        dst[(bc * (long)rows + r) * width + w] = src[((b * rows + r) * cols + c) * width + w];
            }
        });
    }

    private static unsafe void Launch(Tensor x, Tensor y, long batch, int rows, int cols, int width)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, output = y.Pointer;
        void** args = stackalloc void*[] { &input, &output, &batch, &rows, &cols, &width };
        gpu.Launch(gpu.GetKernel(Source, "transpose_last2_u32"), Dim3.Cover(y.Numel * y.DType.SizeOf() / 4, 256), new Dim3(256), 0, args, 6);
    }
}
