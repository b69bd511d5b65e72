using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Native;

/// <summary>Asks a loaded library for its version, for the libraries that can tell it.</summary>
public static unsafe class LibraryVersion
{
    /// <summary>e.g. "12.4" for the CUDA driver; null when the library has no version call or it failed.</summary>
    public static string? Read(ProbeResult library)
    {
        if (!library.Found) return null;
        var spec = library.Spec;
        if (spec == NativeLibrarySpec.CudaDriver) return Driver(library.Handle);
        if (spec == NativeLibrarySpec.Nvrtc) return Nvrtc(library.Handle);
        if (spec == NativeLibrarySpec.Cublas) return Cublas(library.Handle);
        if (spec == NativeLibrarySpec.Cudnn) return Cudnn(library.Handle);
        if (spec == NativeLibrarySpec.OpenBlas) return Text(library.Handle, "openblas_get_config");
        if (spec == NativeLibrarySpec.Spng) return Text(library.Handle, "spng_version_string");
        return null;
    }

    private static string? Driver(nint handle)
    {
        if (!NativeLibrary.TryGetExport(handle, "cuDriverGetVersion", out nint f)) return null;
        int v;
        return ((delegate* unmanaged[Cdecl]<int*, int>)f)(&v) == 0 ? $"CUDA {v / 1000}.{v % 1000 / 10}" : null;
    }

    private static string? Nvrtc(nint handle)
    {
        if (!NativeLibrary.TryGetExport(handle, "nvrtcVersion", out nint f)) return null;
        int major, minor;
        return ((delegate* unmanaged[Cdecl]<int*, int*, int>)f)(&major, &minor) == 0 ? $"{major}.{minor}" : null;
    }

    /// <summary>cublasGetProperty needs no handle (and so no GPU), unlike cublasGetVersion_v2.</summary>
    private static string? Cublas(nint handle)
    {
        if (!NativeLibrary.TryGetExport(handle, "cublasGetProperty", out nint f)) return null;
        var getProperty = (delegate* unmanaged[Cdecl]<int, int*, int>)f;
        int major, minor, patch;
        return getProperty(0, &major) == 0 && getProperty(1, &minor) == 0 && getProperty(2, &patch) == 0 ? $"{major}.{minor}.{patch}" : null;
    }

    private static string? Cudnn(nint handle)
    {
        if (!NativeLibrary.TryGetExport(handle, "cudnnGetVersion", out nint f)) return null;
        long v = (long)((delegate* unmanaged[Cdecl]<nuint>)f)();
        // cuDNN 9 encodes major*10000 + minor*100 + patch; cuDNN 8 used major*1000.
        return v >= 90000 ? $"{v / 10000}.{v % 10000 / 100}.{v % 100}" : $"{v / 1000}.{v % 1000 / 100}.{v % 100}";
    }

    private static string? Text(nint handle, string symbol)
    {
        if (!NativeLibrary.TryGetExport(handle, symbol, out nint f)) return null;
        return Marshal.PtrToStringUTF8((nint)((delegate* unmanaged[Cdecl]<byte*>)f)())?.Trim();
    }
}
