using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>torch.cat along any dimension, for any dtype: every input has the output's shape except along that dimension.</summary>
public static class Concat
{
    private const string Op = "concat";

    private static KernelSource Source => KernelCatalog.Get("Indexing/Indexing.cu");

    public static Tensor Forward(IReadOnlyList<Tensor> inputs, int dim)
    {
        Check.That(inputs.Count > 0, Op, "needs at least one input");
        var first = inputs[0];
        int rank = first.Rank;
        Check.That(rank > 0, Op, $"inputs must have at least one dimension, got {first.Shape}");
        Check.That(dim >= -rank && dim < rank, Op, $"dim {dim} outside inputs of rank {rank} ({first.Shape})");
        if (dim < 0) dim += rank;
        long total = 0;
        foreach (var t in inputs)
        {
            Check.That(t.Rank == rank && t.DType == first.DType, Op,
                $"input {t.Shape} {t.DType.Name()} does not match {first.Shape} {first.DType.Name()}");
            for (int d = 0; d < rank; d++)
            {
                Check.That(d == dim || t.Shape[d] == first.Shape[d], Op,
                    $"input {t.Shape} differs from {first.Shape} outside dim {dim}");
            }
            total += t.Shape[dim];
        }
        Check.SameDevice(Op, [.. inputs]);
        Check.That(total <= int.MaxValue, Op, $"{total} elements along dim {dim} overflow a dimension");
        var y = Tensor.Empty(first.Shape.WithDim(dim, (int)total), first.DType, first.Device);
        if (y.Numel == 0) return y;

        long outer = 1;
        for (int d = 0; d < dim; d++) outer *= first.Shape[d];
        long dstRow = y.Numel / outer * y.DType.SizeOf();
        long offset = 0;
        foreach (var t in inputs)
        {
            long srcRow = t.Numel / outer * t.DType.SizeOf();
            if (srcRow > 0)
            {
                if (y.Device.IsCpu) CopyCpu(t, y, outer, srcRow, dstRow, offset);
                else Launch(t, y, outer, srcRow, dstRow, offset);
            }
            offset += srcRow;
        }
        return y;
    }

    private static unsafe void CopyCpu(Tensor src, Tensor dst, long outer, long srcRow, long dstRow, long offset)
    {
        byte* s = (byte*)src.Pointer, d = (byte*)dst.Pointer;
        CpuThreads.For(checked((int)outer), (start, end) =>
        {
            for (long r = start; r < end; r++) Buffer.MemoryCopy(s + r * srcRow, d + r * dstRow + offset, srcRow, srcRow);
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
        gpu.Launch(gpu.GetKernel(Source, words ? "concat_rows_u32" : "concat_rows_u8"), Dim3.Cover(outer * srcUnits, 256), new Dim3(256), 0, args, 6);
    }
}
