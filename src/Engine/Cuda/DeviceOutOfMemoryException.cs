namespace NativeSeg.Engine.Cuda;

/// <summary>
/// GPU memory is exhausted. Deliberately not an <see cref="OutOfMemoryException"/>: callers treat host
/// memory exhaustion as fatal, while a GPU that is out of memory leaves the process healthy, so a
/// smaller batch can be retried and the failure reported like any other error.
/// </summary>
public sealed class DeviceOutOfMemoryException(string message) : Exception(message);
