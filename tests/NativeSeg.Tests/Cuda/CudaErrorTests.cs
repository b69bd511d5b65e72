using NativeSeg.Cli.Commands;
using NativeSeg.Engine.Cuda;
using NativeSeg.Engine.Memory;

namespace NativeSeg.Tests.Cuda;

public sealed class CudaErrorTests
{
    [Theory]
    [InlineData("api.cuMemAlloc(&pointer, (nuint)bytes)", "cuMemAlloc")]
    [InlineData("_api.cuStreamSynchronize(_stream.Value)", "cuStreamSynchronize")]
    [InlineData("cuInit(0)", "cuInit")]
    public void CheckedExpressionBecomesTheCallName(string expression, string call) =>
        Assert.Equal(call, DriverApi.CallName(expression));

    [Fact]
    public void ExceptionNamesCallErrorAndDetails()
    {
        var e = new CudaException("cuLaunchKernel", 700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered", "in relu_f32");
        Assert.Equal("cuLaunchKernel failed: CUDA_ERROR_ILLEGAL_ADDRESS (700): an illegal memory access was encountered"
            + Environment.NewLine + "in relu_f32", e.Message);
        Assert.Equal(700, e.Status);
    }

    [Fact]
    public void GpuOutOfMemoryIsRetriedOneByOneButHostOutOfMemoryIsFatal()
    {
        Assert.True(SegmentCommand.IsRecoverable(new DeviceOutOfMemoryException("cuMemAllocAsync failed: CUDA_ERROR_OUT_OF_MEMORY (2)")));
        Assert.False(SegmentCommand.IsRecoverable(new OutOfMemoryException()));
    }

    [Fact]
    public void PoolReleasesCachedBlocksAndRetriesWhenTheGpuIsOutOfMemory()
    {
        var released = new List<nint>();
        int calls = 0;
        var pool = new CachingPool(_ => ++calls == 2 ? throw new DeviceOutOfMemoryException("out of memory") : (nint)(0x1000 * calls),
            released.Add, 1 << 20);
        nint small = pool.Rent(1000, out long capacity);
        pool.Return(small, capacity);

        pool.Rent(1 << 16, out _);

        Assert.Equal([small], released);
        Assert.Equal(3, calls);
        Assert.Equal(0, pool.BytesCached);
    }
}
