using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>
/// What concat and narrow both are: from each of <c>outer</c> rows, a block of <c>width</c> bytes read at
/// <c>srcOffset</c> in src's rows of <c>srcRow</c> bytes and written at <c>dstOffset</c> in dst's rows of <c>dstRow</c> bytes.
/// </summary>
internal static class RowBlockCopy
{
    private static KernelSource Source => KernelCatalog.Get("Indexing/Indexing.cu");

    public static void Run(Tensor src, Tensor dst, long outer, long width, long srcRow, long srcOffset, long dstRow, long dstOffset)
    {
        if (outer == 0 || width == 0) return;
        if (dst.Device.IsCpu) CopyCpu(src, dst, outer, width, srcRow, srcOffset, dstRow, dstOffset);
        else Launch(src, dst, outer, [width, srcRow, srcOffset, dstRow, dstOffset]);
    }

    private static unsafe void CopyCpu(Tensor src, Tensor dst, long outer, long width, long srcRow, long srcOffset, long dstRow, long dstOffset)
    {
        byte* s = (byte*)src.Pointer, d = (byte*)dst.Pointer;
        CpuThreads.For(checked((int)outer), (start, end) =>
        {
            for (long r = start; r < end; r++) Buffer.MemoryCopy(s + r * srcRow + srcOffset, d + r * dstRow + dstOffset, width, width);
        });
    }

    /// <param name="geometry">width, srcRow, srcOffset, dstRow, dstOffset in bytes; the kernel moves 4-byte words when all divide by 4.</param>
    private static unsafe void Launch(Tensor src, Tensor dst, long outer, long[] geometry)
    {
        var gpu = dst.Device.Gpu;
        bool words = geometry.All(v => v % 4 == 0);
        var units = geometry.Select(v => words ? v / 4 : v).ToArray();
        nint input = src.Pointer, output = dst.Pointer;
        long width = units[0], srcRow = units[1], srcOffset = units[2], dstRow = units[3], dstOffset = units[4];
        void** args = stackalloc void*[] { &input, &output, &outer, &width, &srcRow, &srcOffset, &dstRow, &dstOffset };
        gpu.Launch(gpu.GetKernel(Source, words ? "copy_row_blocks_u32" : "copy_row_blocks_u8"), Dim3.Cover(outer * width, 256), new Dim3(256), 0, args, 8);
    }
}
