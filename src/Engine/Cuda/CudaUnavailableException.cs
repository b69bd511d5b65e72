namespace NativeSeg.Engine.Cuda;

/// <summary>CUDA was asked for but cannot be used here; <see cref="Reason"/> says why (which library, where it looked).</summary>
public sealed class CudaUnavailableException(string reason, Exception? inner = null)
    : InvalidOperationException($"CUDA unavailable: {reason}", inner)
{
    public string Reason { get; } = reason;
}
