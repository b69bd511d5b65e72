using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels;

/// <summary>
/// What a device can do at best, measured with the same runner as the kernels so each kernel's GB/s and
/// GFLOP/s can be read as a fraction of them: copy bandwidth (one big buffer copy: cudaMemcpy device to
/// device on a GPU, Buffer.MemoryCopy over all threads on the CPU) and the SGEMM rate of square
/// matrices (cuBLAS, or OpenBLAS on the CPU).
/// </summary>
public static class DeviceCeilings
{
    public static KernelBenchmark Copy { get; } = new CopyCeiling();

    public static KernelBenchmark Gemm { get; } = new GemmCeiling();

    private sealed class CopyCeiling : KernelBenchmark<long>
    {
        public override string Name => "ceiling";

        protected override IEnumerable<long> SizesOf(BenchmarkPreset preset) => preset switch
        {
            BenchmarkPreset.Small => [16L << 20],
            BenchmarkPreset.Paper => [256L << 20],
            BenchmarkPreset.Large => [1L << 30],
            _ => throw new ArgumentOutOfRangeException(nameof(preset)),
        };

        protected override string Label(long bytes) => $"copy {bytes >> 20}MiB";

        protected override (long Flops, long Bytes) Cost(long bytes) => (0, 2 * bytes);

        protected override unsafe BenchmarkCase Setup(Device device, long bytes, int copies)
        {
            var sources = new Tensor[copies];
            for (int i = 0; i < copies; i++) sources[i] = RandomTensors.Uniform(device, i + 1, -1, 1, checked((int)(bytes / sizeof(float))));
            var destination = Tensor.Empty(device, DType.Float32, checked((int)(bytes / sizeof(float))));
            Action<int> run = device.Runtime is { } gpu
                ? i => gpu.CopyDeviceToDevice(destination.Pointer, sources[i].Pointer, bytes)
                : i => CopyOnAllThreads((byte*)sources[i].Pointer, (byte*)destination.Pointer, bytes);
            return new BenchmarkCase(copies, run, [.. sources, destination]);
        }

        // One thread cannot saturate a multi-channel memory system; each thread copies a contiguous slice.
        private static unsafe void CopyOnAllThreads(byte* source, byte* destination, long bytes)
        {
            const long slice = 1 << 20;
            int slices = checked((int)((bytes + slice - 1) / slice));
            CpuThreads.For(slices, (start, end) =>
            {
                long from = start * slice, to = Math.Min(bytes, end * slice);
                Buffer.MemoryCopy(source + from, destination + from, to - from, to - from);
            });
        }
    }

    private sealed class GemmCeiling : KernelBenchmark<int>
    {
        public override string Name => "ceiling";

        protected override IEnumerable<int> SizesOf(BenchmarkPreset preset) => preset switch
        {
            BenchmarkPreset.Small => [512],
            BenchmarkPreset.Paper => [4096],
            BenchmarkPreset.Large => [8192],
            _ => throw new ArgumentOutOfRangeException(nameof(preset)),
        };

        protected override string Label(int n) => $"sgemm {n}x{n}x{n}";

        protected override (long Flops, long Bytes) Cost(int n) => (2L * n * n * n, 3L * n * n * sizeof(float));

        protected override unsafe BenchmarkCase Setup(Device device, int n, int copies)
        {
            var a = new Tensor[copies];
            var b = new Tensor[copies];
            for (int i = 0; i < copies; i++)
            {
                a[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 1, n, n);
                b[i] = RandomTensors.Uniform(device, 10 * i + 2, -1, 1, n, n);
            }
            var c = Tensor.Empty(device, DType.Float32, n, n);
            Action<int> run = device.Runtime is { } gpu
                ? i => gpu.Blas.Sgemm(false, false, n, n, n, 1f, a[i].Pointer, n, b[i].Pointer, n, 0f, c.Pointer, n)
                : i => OpenBlas.Sgemm(false, false, n, n, n, 1f, (float*)a[i].Pointer, n, (float*)b[i].Pointer, n, 0f, (float*)c.Pointer, n);
            return new BenchmarkCase(copies, run, [.. a, .. b, c]);
        }
    }
}
