using NativeSeg.Engine.Cuda;

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
}
