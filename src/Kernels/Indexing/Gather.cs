using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>
/// torch.index_select(x, 0, index) for any dtype with int64 indices. Indices are validated wherever
/// that is cheap: always on the CPU, and on a CUDA device when the index tensor is given on the CPU
/// (it is checked, then uploaded). Indices already on the device are not read back, since that would
/// cost a synchronisation per call; the kernel writes a zero row for an out-of-range index rather
/// than reading out of bounds.
/// </summary>
public static class Gather
{
    private const string Op = "gather";

    private static KernelSource Source => KernelCatalog.Get("Indexing/Indexing.cu");

    public static Tensor Rows(Tensor x, Tensor index)
    {
        Check.That(x.Rank >= 1, Op, $"input must have at least one dimension, got {x.Shape}");
        Check.That(index.DType == DType.Int64 && index.Rank == 1, Op,
            $"index must be a 1-D int64 tensor, got {index.DType.Name()} {index.Shape} (input {x.Shape})");
        Check.That(index.Device.IsCpu || ReferenceEquals(index.Device, x.Device), Op,
            $"index lives on {index.Device}, input {x.Shape} on {x.Device}");
        if (index.Device.IsCpu) Validate(index.AsSpan<long>(), x.Shape);
        var y = Tensor.Empty(x.Shape.WithDim(0, index.Shape[0]), x.DType, x.Device);
        if (y.Numel == 0) return y;
        long rowBytes = x.Shape.InnerSize * x.DType.SizeOf();
        if (x.Device.IsCpu) CopyCpu(x, index, y, rowBytes);
        else if (index.Device.IsCpu)
        {
            using var onDevice = index.To(x.Device);
            Launch(x, onDevice, y, rowBytes);
        }
        else Launch(x, index, y, rowBytes);
        return y;
    }

    private static void Validate(ReadOnlySpan<long> index, Shape shape)
    {
        for (int i = 0; i < index.Length; i++)
        {
            if (index[i] < 0 || index[i] >= shape[0])
                throw new ArgumentException($"{Op}: index {index[i]} at position {i} is outside [0, {shape[0]}) for input {shape}");
        }
    }

    /// <summary>Bytes a thread should copy before a second one pays off.</summary>
    private const long ParallelBytes = 1 << 20;

    private static unsafe void CopyCpu(Tensor x, Tensor index, Tensor y, long rowBytes)
    {
        byte* s = (byte*)x.Pointer, d = (byte*)y.Pointer;
        long* idx = (long*)index.Pointer;
        CpuThreads.For(index.Shape[0], (start, end) =>
        {
            for (long r = start; r < end; r++) Buffer.MemoryCopy(s + idx[r] * rowBytes, d + r * rowBytes, rowBytes, rowBytes);
        }, grain: (int)Math.Max(1, ParallelBytes / rowBytes));
    }

    private static unsafe void Launch(Tensor x, Tensor index, Tensor y, long rowBytes)
    {
        var gpu = x.Device.Gpu;
        bool words = rowBytes % 4 == 0;
        nint input = x.Pointer, indices = index.Pointer, output = y.Pointer;
        long count = index.Shape[0], row = words ? rowBytes / 4 : rowBytes, rowsIn = x.Shape[0];
        void** args = stackalloc void*[] { &input, &indices, &output, &count, &row, &rowsIn };
        gpu.Launch(gpu.GetKernel(Source, words ? "gather_rows_u32" : "gather_rows_u8"), Dim3.Cover(count * row, 256), new Dim3(256), 0, args, 6);
    }
}
