namespace NativeSeg.Engine.Cuda;

/// <summary>
/// GPU memory is exhausted. An <see cref="OutOfMemoryException"/> so the caching pool trims its cached
/// blocks and retries, as it does for the host.
/// </summary>
public sealed class DeviceOutOfMemoryException(string message) : OutOfMemoryException(message);
