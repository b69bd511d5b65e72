namespace NativeSeg.Engine.Cuda;

/// <summary>
/// A CUDA library call returned an error status. The message names the call and the library's own
/// error name and description, e.g. "cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory".
/// </summary>
public class CudaException : Exception
{
    public CudaException(string call, int status, string errorName, string description, string? details = null)
        : base($"{call} failed: {errorName} ({status}): {description}{(details is null ? "" : Environment.NewLine + details)}")
    {
        Call = call;
        Status = status;
        ErrorName = errorName;
    }

    public string Call { get; }

    public int Status { get; }

    public string ErrorName { get; }
}
