using NativeSeg.Engine.Cuda;

namespace NativeSeg.Native;

/// <summary>ns_status of nativeseg.h.</summary>
internal enum Status
{
    Ok = 0,
    InvalidArgument = 1,
    IoError = 2,
    FormatError = 3,
    DeviceError = 4,
    OutOfMemory = 5,
    InternalError = 6,
}

/// <summary>The one place an exception becomes a status: every export catches everything and asks here.</summary>
internal static class StatusOf
{
    public static Status Exception(Exception e) => e switch
    {
        DeviceOutOfMemoryException or OutOfMemoryException or InsufficientExecutionStackException => Status.OutOfMemory,
        CudaException or CudaUnavailableException => Status.DeviceError,
        ArgumentException or ObjectDisposedException => Status.InvalidArgument,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => Status.IoError,
        FormatException or NotSupportedException or InvalidDataException => Status.FormatError,
        IOException => Status.IoError,
        _ => Status.InternalError,
    };
}
