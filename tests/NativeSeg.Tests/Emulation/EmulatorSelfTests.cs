using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;

namespace NativeSeg.Tests.Emulation;

/// <summary>The emulator against kernels whose exact results are known: one CUDA feature each.</summary>
public unsafe class EmulatorSelfTests
{
    private static readonly KernelSource Source = new(
        "TestKernels/SelfTest.cu", EmulationCompiler.ReadResource("emulation/SelfTest.cu"), KernelCatalog.All.First().Headers);

    private static readonly KernelSource IndependentSource = new(
        "TestKernels/Independent.cu", EmulationCompiler.ReadResource("emulation/Independent.cu"),
        new Dictionary<string, string>(Source.Headers) { ["block_helper.cuh"] = "__device__ inline void wait_for_block() { __syncthreads(); }\n" });

    private static EmulatedRuntime Runtime => EmulatedDevice.Runtime;

    private static Device Device => EmulatedDevice.Device;

    [Fact]
    public void BlockReductionThroughSharedMemoryWithAGridSmallerThanTheData()
    {
        const int n = 10_000, blocks = 3;
        var data = Enumerable.Range(0, n).Select(i => (float)(i % 7)).ToArray();
        using var x = Tensor.FromArray(data, n).To(Device);
        using var partial = Tensor.Empty(Device, DType.Float32, blocks);
        nint px = x.Pointer, pp = partial.Pointer;
        long count = n;
        void** args = stackalloc void*[] { &px, &pp, &count };
        Launch("block_sum", new Dim3(blocks), new Dim3(256), 0, args, 3);
        var expected = new float[blocks];
        for (int i = 0; i < n; i++) expected[i / 256 % blocks] += data[i];
        Assert.Equal(expected, partial.ToArray<float>());
    }

    [Fact]
    public void WarpShuffleReductionWithAPartialLastWarp()
    {
        const int n = 950;
        using var x = Tensor.FromArray(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), n).To(Device);
        using var total = Tensor.Zeros(new Shape(1), DType.Float32, Device);
        nint px = x.Pointer, pt = total.Pointer;
        int count = n;
        void** args = stackalloc void*[] { &px, &pt, &count };
        Launch("warp_sum", new Dim3(10), new Dim3(100), 0, args, 3);
        Assert.Equal(n * (n - 1) / 2f, total.ToArray<float>()[0]);
    }

    [Fact]
    public void ShufflesAndBallotMatchTheirDefinitions()
    {
        const int threads = 40;  // one full warp, one of 8 lanes
        using var output = Tensor.Empty(Device, DType.Int32, threads * 4);
        nint po = output.Pointer;
        void** args = stackalloc void*[] { &po };
        Launch("shuffles", new Dim3(1), new Dim3(threads), 0, args, 1);
        var got = output.ToArray<int>();
        for (int t = 0; t < threads; t++)
        {
            int warp = t / 32 * 32, lane = t % 32, lanes = Math.Min(32, threads - warp);
            int xorLane = lane ^ 5;
            uint ballot = 0;
            for (int l = 0; l < lanes; l++) if ((warp + l) % 3 == 0) ballot |= 1u << l;
            Assert.Equal((warp + 3) * 10, got[4 * t]);
            Assert.Equal((lane == 0 ? t : t - 1) * 10, got[4 * t + 1]);
            Assert.Equal((xorLane < lanes ? warp + xorLane : t) * 10, got[4 * t + 2]);
            Assert.Equal((int)ballot, got[4 * t + 3]);
        }
    }

    [Fact]
    public void AtomicsFromManyThreadsLoseNoUpdate()
    {
        const int n = 5000;
        var values = Enumerable.Range(0, n).Select(i => i * 7919 % 1000).ToArray();
        using var v = Tensor.FromArray(values, n).To(Device);
        using var histogram = Tensor.Zeros(new Shape(9), DType.Int32, Device);
        using var extremes = Tensor.FromArray(new[] { int.MinValue, int.MaxValue }, 2).To(Device);
        using var bits = Tensor.Zeros(new Shape(1), DType.Int32, Device);
        using var count = Tensor.Zeros(new Shape(1), DType.Int64, Device);
        using var sum = Tensor.Zeros(new Shape(1), DType.Float32, Device);
        using var largest = Tensor.FromArray(new[] { -1f }, 1).To(Device);
        nint pv = v.Pointer, ph = histogram.Pointer, pe = extremes.Pointer, pb = bits.Pointer, pc = count.Pointer, ps = sum.Pointer, pl = largest.Pointer;
        int length = n;
        void** args = stackalloc void*[] { &pv, &length, &ph, &pe, &pb, &pc, &ps, &pl };
        Launch("atomics", new Dim3(4), new Dim3(256), 0, args, 8);
        var expectedHistogram = new int[9];
        foreach (int x in values) expectedHistogram[x % 8]++;
        expectedHistogram[8] = -n;
        Assert.Equal(expectedHistogram, histogram.ToArray<int>());
        Assert.Equal(new[] { values.Max(), values.Min() }, extremes.ToArray<int>());
        Assert.Equal(values.Aggregate(0u, (acc, x) => acc | 1u << (x % 32)), (uint)bits.ToArray<int>()[0]);
        Assert.Equal(n, count.ToArray<long>()[0]);
        Assert.Equal(n * 0.5f, sum.ToArray<float>()[0]);
        Assert.Equal(values.Max(), largest.ToArray<float>()[0]);
    }

    [Fact]
    public void DynamicSharedMemoryHoldsOneBlocksChunk()
    {
        const int n = 1000, block = 128;
        var values = Enumerable.Range(0, n).ToArray();
        using var x = Tensor.FromArray(values, n).To(Device);
        using var y = Tensor.Empty(Device, DType.Int32, n);
        nint px = x.Pointer, py = y.Pointer;
        int length = n;
        void** args = stackalloc void*[] { &px, &py, &length };
        Launch("reverse_chunks", Dim3.Cover(n, block), new Dim3(block), block * sizeof(int), args, 3);
        var expected = new int[n];
        for (int j = 0; j < n; j++)
        {
            int source = j / block * block + (block - 1 - j % block);
            expected[j] = source < n ? source : -1;
        }
        Assert.Equal(expected, y.ToArray<int>());
    }

    [Fact]
    public void ThreeDimensionalBlocksSurviveThreadsThatReturnBeforeTheBarrier()
    {
        var grid = new Dim3(3, 2);
        var block = new Dim3(5, 3, 2);
        const int blocks = 6, threads = 30;
        using var ids = Tensor.Empty(Device, DType.Int32, blocks * threads);
        using var counts = Tensor.Empty(Device, DType.Int32, blocks);
        nint pi = ids.Pointer, pc = counts.Pointer;
        void** args = stackalloc void*[] { &pi, &pc };
        Launch("indices", grid, block, 0, args, 2);
        Assert.Equal(Enumerable.Range(0, blocks * threads).Select(i => i / threads * 10000 + i % threads), ids.ToArray<int>());
        Assert.Equal(Enumerable.Repeat(3 * 2, blocks), counts.ToArray<int>());  // even x (0, 2, 4) with y == 0, both z
    }

    [Fact]
    public void BlocksWithoutCooperationRunWithoutBarriersAndLoseNoAtomic()
    {
        const int n = 10_000;
        var data = Enumerable.Range(0, n).Select(i => i * 0.25f).ToArray();
        using var x = Tensor.FromArray(data, n).To(Device);
        using var y = Tensor.Empty(Device, DType.Float32, n);
        using var count = Tensor.Zeros(new Shape(1), DType.Int64, Device);
        nint px = x.Pointer, py = y.Pointer, pc = count.Pointer;
        long length = n;
        void** args = stackalloc void*[] { &px, &py, &pc, &length };
        Runtime.Launch(Runtime.GetKernel(IndependentSource, "scale_and_count"), new Dim3(7), new Dim3(128), 0, args, 4);
        Assert.Equal(data.Select(v => 2 * v), y.ToArray<float>());
        Assert.Equal(n, count.ToArray<long>()[0]);
    }

    [Fact]
    public void CooperationTheSourceTextHidesFailsTheLaunch()
    {
        using var y = Tensor.Empty(Device, DType.Float32, 64);
        var e = Assert.Throws<InvalidOperationException>(() => Launch(IndependentSource, "hidden_barrier", new Dim3(2), new Dim3(64), y.Pointer));
        Assert.Contains("__syncthreads", e.Message);
    }

    [Fact]
    public void MatchingOutputPasses()
    {
        var result = KernelCheckRunner.Run(new CopyCheck("copy", 1000), Device);
        Assert.True(result.Passed, result.Failure);
        Assert.Equal(0, result.RelativeError);
    }

    [Fact]
    public void WrongResultIsDetected()
    {
        var result = KernelCheckRunner.Run(new CopyCheck("almost_copy", 1000), Device);
        Assert.False(result.Passed);
        Assert.InRange(result.RelativeError, 1e-3, 2e-2);
    }

    [Fact]
    public void UnwrittenOutputIsDetected()
    {
        var result = KernelCheckRunner.Run(new CopyCheck("copy", 1000, launchedElements: 999), Device);
        Assert.False(result.Passed);
        Assert.Contains("NaN mismatch at element 999", result.Failure);
    }

    [Fact]
    public void DivergentBarrierIsReportedAsDeadlock()
    {
        using var output = Tensor.Empty(Device, DType.Int32, 64);
        var e = Assert.Throws<InvalidOperationException>(() => Launch("divergent_barrier", new Dim3(1), new Dim3(64), output.Pointer));
        Assert.Contains("deadlock", e.Message);
    }

    [Fact]
    public void TrapEndsTheLaunchWithAnError()
    {
        using var output = Tensor.Empty(Device, DType.Int32, 64);
        var e = Assert.Throws<InvalidOperationException>(() => Launch("trap_on_three", new Dim3(2), new Dim3(64), output.Pointer));
        Assert.Contains("__trap", e.Message);
    }

    [Fact]
    public void LaunchesCudaWouldRejectAreRejected()
    {
        using var output = Tensor.Empty(Device, DType.Int32, 64);
        nint po = output.Pointer;
        var tooMany = Assert.Throws<InvalidOperationException>(() => Launch("trap_on_three", new Dim3(1), new Dim3(2048), po));
        Assert.Contains("1024", tooMany.Message);
        var emptyGrid = Assert.Throws<InvalidOperationException>(() => Launch("trap_on_three", new Dim3(0), new Dim3(32), po));
        Assert.Contains("grid (0, 1, 1)", emptyGrid.Message);
        var wrongCount = Assert.Throws<InvalidOperationException>(() => Launch("trap_on_three", new Dim3(1), new Dim3(32), po, count: 2));
        Assert.Contains("takes 1 arguments, the launch passed 2", wrongCount.Message);
    }

    [Fact]
    public void CompileErrorsNameTheSourceAndShowTheCompilerOutput()
    {
        var broken = new KernelSource("TestKernels/Broken.cu",
            "extern \"C\" __global__ void broken(float* y) { y[0] = undeclared_name; }", Source.Headers);
        var e = Assert.Throws<InvalidOperationException>(() => Runtime.GetKernel(broken, "broken"));
        Assert.Contains("TestKernels/Broken.cu", e.Message);
        Assert.Contains("undeclared_name", e.Message);
    }

    [Fact]
    public void UnknownEntryPointNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Runtime.GetKernel(Source, "no_such_kernel"));
        Assert.Contains("block_sum", e.Message);
    }

    private static void Launch(string entry, Dim3 grid, Dim3 block, int sharedBytes, void** args, int count) =>
        Runtime.Launch(Runtime.GetKernel(Source, entry), grid, block, sharedBytes, args, count);

    /// <summary>Launches a kernel whose arguments are one pointer (passed <paramref name="count"/> times).</summary>
    private static void Launch(string entry, Dim3 grid, Dim3 block, nint pointer, int count = 1) =>
        Launch(Source, entry, grid, block, pointer, count);

    private static void Launch(KernelSource source, string entry, Dim3 grid, Dim3 block, nint pointer, int count = 1)
    {
        void** args = stackalloc void*[] { &pointer, &pointer };
        Runtime.Launch(Runtime.GetKernel(source, entry), grid, block, 0, args, count);
    }

    /// <summary>A copy whose device side runs <paramref name="entry"/> over the first elements only.</summary>
    private sealed class CopyCheck(string entry, int n, int? launchedElements = null) : KernelCheck
    {
        public override string Name => "emulator/" + entry;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 3, -2, 2, n);
            if (device.IsCpu) return [x.To(device)];
            var y = Tensor.Empty(x.Shape, DType.Float32, device);
            nint px = x.Pointer, py = y.Pointer;
            long count = launchedElements ?? n;
            void** args = stackalloc void*[] { &px, &py, &count };
            EmulatorSelfTests.Launch(entry, new Dim3(2), new Dim3(128), 0, args, 3);
            return [RandomTensors.ToCpu(y)];
        }
    }
}
