using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Conversion;

/// <summary>
/// Element type conversion: float32 ↔ float16 (round to nearest even, overflow to ±inf, NaN kept) and
/// uint8 → float32 for decoded images. Casting to the same dtype returns a copy.
/// </summary>
public static class Cast
{
    private const string Op = "cast";
    private const int ChunkSize = 1 << 16;

    private static KernelSource Source => KernelCatalog.Get("Conversion/Conversion.cu");

    public static Tensor To(Tensor x, DType target)
    {
        if (x.DType == target) return x.To(x.Device);
        string? entry = (x.DType, target) switch
        {
            (DType.Float32, DType.Float16) => "cast_f32_f16",
            (DType.Float16, DType.Float32) => "cast_f16_f32",
            (DType.UInt8, DType.Float32) => "cast_u8_f32",
            _ => null,
        };
        Check.That(entry is not null, Op, $"no conversion from {x.DType.Name()} to {target.Name()} (input {x.Shape})");
        var y = Tensor.Empty(x.Shape, target, x.Device);
        long n = x.Numel;
        if (n == 0) return y;
        if (x.Device.IsCpu) RunCpu(x, y, n);
        else Launch(x, y, n, entry!);
        return y;
    }

    private static unsafe void RunCpu(Tensor x, Tensor y, long n)
    {
        nint input = x.Pointer, output = y.Pointer;
        DType from = x.DType;
        CpuThreads.For(checked((int)((n + ChunkSize - 1) / ChunkSize)), (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                long offset = (long)c * ChunkSize;
                int len = (int)Math.Min(ChunkSize, n - offset);
                switch (from)
                {
                    case DType.Float32:
                        TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>((float*)input + offset, len), new Span<Half>((Half*)output + offset, len));
                        break;
                    case DType.Float16:
                        TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)input + offset, len), new Span<float>((float*)output + offset, len));
                        break;
                    default:
                        TensorPrimitives.ConvertTruncating<byte, float>(new ReadOnlySpan<byte>((byte*)input + offset, len), new Span<float>((float*)output + offset, len));
                        break;
                }
            }
        });
    }

    private static unsafe void Launch(Tensor x, Tensor y, long n, string entry)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, output = y.Pointer;
        void** args = stackalloc void*[] { &input, &output, &n };
        gpu.Launch(gpu.GetKernel(Source, entry), Dim3.Cover(n, 256), new Dim3(256), 0, args, 3);
    }
}
