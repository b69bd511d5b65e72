using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;

namespace NativeSeg.Kernels;

/// <summary>
/// What a device can do at best, measured with the same runner as the kernels so each kernel's GB/s and
/// GFLOP/s can be read as a fraction of them: copy bandwidth (one big buffer copy: cudaMemcpy device to
/// device on a GPU, Buffer.MemoryCopy over all threads on the CPU) and the SGEMM rate of square
/// matrices (cuBLAS, or OpenBLAS on the CPU). On the CPU also the peak of the AVX-512 micro-kernel the convolutions
/// run on (<see cref="Panel"/>), the fairer ceiling for them: the deployed OpenBLAS runs its Haswell (AVX2) kernels.
/// </summary>
public static class DeviceCeilings
{
    public static KernelBenchmark Copy { get; } = new CopyCeiling();

    public static KernelBenchmark Gemm { get; } = new GemmCeiling();

    /// <summary>
    /// CPU only, with AVX-512: every thread (<see cref="CpuThreads.Count"/> when the sizes are taken) running the
    /// convolutions' 8×48 micro-kernel on its own operands, which stay in L1/L2 as a conv's packed panel does.
    /// </summary>
    public static KernelBenchmark Panel { get; } = new PanelCeiling();

    /// <summary>Whether <see cref="Panel"/> can run on <paramref name="device"/>.</summary>
    public static bool HasPanel(Device device) => device.IsCpu && PanelKernel.IsSupported;

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

    private sealed class PanelCeiling : KernelBenchmark<int>
    {
        /// <summary>Micro-kernel calls per thread and run: about 0.8 GFLOP each at k = 256.</summary>
        private const int Calls = 4096;

        public override string Name => "ceiling";

        protected override IEnumerable<int> SizesOf(BenchmarkPreset preset) => [256];

        protected override string Label(int k) => $"panel kernel {PanelKernel.Mr}x{PanelKernel.Nr}x{k}, {CpuThreads.Count} threads";

        protected override (long Flops, long Bytes) Cost(int k) =>
            (2L * PanelKernel.Mr * PanelKernel.Nr * k * Calls * CpuThreads.Count, 0);

        protected override unsafe BenchmarkCase Setup(Device device, int k, int copies)
        {
            if (!HasPanel(device)) throw new NotSupportedException($"the panel kernel runs on a CPU with AVX-512, not on {device}");
            int threads = CpuThreads.Count;
            var a = new Tensor[threads];
            var b = new Tensor[threads];
            var c = new Tensor[threads];
            for (int i = 0; i < threads; i++)
            {
                a[i] = RandomTensors.Uniform(device, 3 * i + 1, -1, 1, k * PanelKernel.Mr);
                b[i] = RandomTensors.Uniform(device, 3 * i + 2, -1, 1, k * PanelKernel.Nr);
                c[i] = Tensor.Empty(device, DType.Float32, PanelKernel.Mr * PanelKernel.Nr);
            }
            void Run(int start, int end)
            {
                for (int i = start; i < end; i++)
                {
                    float* ap = (float*)a[i].Pointer, bp = (float*)b[i].Pointer, cp = (float*)c[i].Pointer;
                    for (int call = 0; call < Calls; call++) PanelKernel.Run(k, ap, bp, cp, PanelKernel.Nr, null, false);
                }
            }
            return new BenchmarkCase(copies, _ => CpuThreads.For(threads, Run), [.. a, .. b, .. c]);
        }
    }
}
