using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>torch.narrow(x, dim, start, length), copied into a new contiguous tensor; any dtype. Concat's backward.</summary>
public static class Narrow
{
    private const string Op = "narrow";

    private static KernelSource Source => KernelCatalog.Get("Indexing/Indexing.cu");

    public static Tensor Forward(Tensor x, int dim, int start, int length)
    {
        int rank = x.Rank;
        Check.That(rank > 0, Op, $"input must have at least one dimension, got {x.Shape}");
        Check.That(dim >= -rank && dim < rank, Op, $"dim {dim} outside an input of rank {rank} ({x.Shape})");
        if (dim < 0) dim += rank;
        Check.That(start >= 0 && length >= 0 && (long)start + length <= x.Shape[dim], Op,
            $"[{start}, {(long)start + length}) is not inside dim {dim} of {x.Shape}");
        var y = Tensor.Empty(x.Shape.WithDim(dim, length), x.DType, x.Device);
        if (y.Numel == 0) return y;
        long outer = 1;
        for (int d = 0; d < dim; d++) outer *= x.Shape[d];
        long srcRow = x.Numel / outer * x.DType.SizeOf();
        long dstRow = y.Numel / outer * y.DType.SizeOf();
        long offset = srcRow / x.Shape[dim] * start;
        if (y.Device.IsCpu) CopyCpu(x, y, outer, srcRow, dstRow, offset);
        else Launch(x, y, outer, srcRow, dstRow, offset);
        return y;
    }

    private static unsafe void CopyCpu(Tensor src, Tensor dst, long outer, long srcRow, long dstRow, long offset)
    {
        byte* s = (byte*)src.Pointer, d = (byte*)dst.Pointer;
        CpuThreads.For(checked((int)outer), (start, end) =>
        {
            for (long r = start; r < end; r++) Buffer.MemoryCopy(s + r * srcRow + offset, d + r * dstRow, dstRow, dstRow);
        });
    }

    private static unsafe void Launch(Tensor src, Tensor dst, long outer, long srcRow, long dstRow, long offset)
    {
        var gpu = dst.Device.Gpu;
        bool words = srcRow % 4 == 0 && dstRow % 4 == 0 && offset % 4 == 0;
        int unit = words ? 4 : 1;
        nint input = src.Pointer, output = dst.Pointer;
        long srcUnits = srcRow / unit, dstUnits = dstRow / unit, offsetUnits = offset / unit;
        void** args = stackalloc void*[] { &input, &output, &outer, &srcUnits, &dstUnits, &offsetUnits };
        gpu.Launch(gpu.GetKernel(Source, words ? "narrow_rows_u32" : "narrow_rows_u8"), Dim3.Cover(outer * dstUnits, 256), new Dim3(256), 0, args, 6);
    }
}
