using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeSeg.Engine.Native;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// The CUDA driver entry points we use, as unmanaged function pointers taken from libcuda.so.1.
/// Versioned symbols (_v2) are bound by their exported names, not the header macros.
/// CUresult is an int; device pointers are nint (CUdeviceptr is 64-bit on x64).
/// </summary>
internal sealed unsafe class DriverApi
{
    public const int Success = 0;
    public const int ErrorOutOfMemory = 2;
    public const int ErrorNotSupported = 801;

    private DriverApi(ProbeResult library)
    {
        Library = library;
        var e = new Exports(library);
        cuInit = (delegate* unmanaged[Cdecl]<uint, int>)e.Require("cuInit");
        cuDriverGetVersion = (delegate* unmanaged[Cdecl]<int*, int>)e.Require("cuDriverGetVersion");
        cuGetErrorName = (delegate* unmanaged[Cdecl]<int, byte**, int>)e.Require("cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged[Cdecl]<int, byte**, int>)e.Require("cuGetErrorString");
        cuDeviceGetCount = (delegate* unmanaged[Cdecl]<int*, int>)e.Require("cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged[Cdecl]<int*, int, int>)e.Require("cuDeviceGet");
        cuDeviceGetName = (delegate* unmanaged[Cdecl]<byte*, int, int, int>)e.Require("cuDeviceGetName");
        cuDeviceGetAttribute = (delegate* unmanaged[Cdecl]<int*, int, int, int>)e.Require("cuDeviceGetAttribute");
        cuDeviceTotalMem = (delegate* unmanaged[Cdecl]<nuint*, int, int>)e.Require("cuDeviceTotalMem_v2");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged[Cdecl]<nint*, int, int>)e.Require("cuDevicePrimaryCtxRetain");
        cuDevicePrimaryCtxRelease = (delegate* unmanaged[Cdecl]<int, int>)e.Require("cuDevicePrimaryCtxRelease_v2");
        cuCtxSetCurrent = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cuCtxSetCurrent");
        cuStreamCreate = (delegate* unmanaged[Cdecl]<nint*, uint, int>)e.Require("cuStreamCreate");
        cuStreamDestroy = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cuStreamDestroy_v2");
        cuStreamSynchronize = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cuStreamSynchronize");
        cuEventCreate = (delegate* unmanaged[Cdecl]<nint*, uint, int>)e.Require("cuEventCreate");
        cuEventRecord = (delegate* unmanaged[Cdecl]<nint, nint, int>)e.Require("cuEventRecord");
        cuEventSynchronize = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cuEventSynchronize");
        cuEventElapsedTime = (delegate* unmanaged[Cdecl]<float*, nint, nint, int>)e.Optional("cuEventElapsedTime_v2", "cuEventElapsedTime");
        cuEventDestroy = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cuEventDestroy_v2");
        // Stream-ordered allocation arrived in CUDA 11.2; older drivers lack the symbols.
        cuMemAllocAsync = (delegate* unmanaged[Cdecl]<nint*, nuint, nint, int>)e.Optional("cuMemAllocAsync");
        cuMemFreeAsync = (delegate* unmanaged[Cdecl]<nint, nint, int>)e.Optional("cuMemFreeAsync");
        cuMemAlloc = (delegate* unmanaged[Cdecl]<nint*, nuint, int>)e.Require("cuMemAlloc_v2");
        cuMemFree = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cuMemFree_v2");
        cuMemcpyHtoDAsync = (delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, int>)e.Require("cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync = (delegate* unmanaged[Cdecl]<void*, nint, nuint, nint, int>)e.Require("cuMemcpyDtoHAsync_v2");
        cuMemcpyDtoDAsync = (delegate* unmanaged[Cdecl]<nint, nint, nuint, nint, int>)e.Require("cuMemcpyDtoDAsync_v2");
        cuMemsetD8Async = (delegate* unmanaged[Cdecl]<nint, byte, nuint, nint, int>)e.Require("cuMemsetD8Async");
        cuModuleLoadData = (delegate* unmanaged[Cdecl]<nint*, void*, int>)e.Require("cuModuleLoadData");
        cuModuleGetFunction = (delegate* unmanaged[Cdecl]<nint*, nint, byte*, int>)e.Require("cuModuleGetFunction");
        cuModuleUnload = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cuModuleUnload");
        cuFuncSetAttribute = (delegate* unmanaged[Cdecl]<nint, int, int, int>)e.Require("cuFuncSetAttribute");
        cuLaunchKernel = (delegate* unmanaged[Cdecl]<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)e.Require("cuLaunchKernel");
        if (cuEventElapsedTime == null) throw new EntryPointNotFoundException($"CUDA driver at {library.Path} has no cuEventElapsedTime");
    }

    public ProbeResult Library { get; }

    public readonly delegate* unmanaged[Cdecl]<uint, int> cuInit;
    public readonly delegate* unmanaged[Cdecl]<int*, int> cuDriverGetVersion;
    public readonly delegate* unmanaged[Cdecl]<int, byte**, int> cuGetErrorName;
    public readonly delegate* unmanaged[Cdecl]<int, byte**, int> cuGetErrorString;
    public readonly delegate* unmanaged[Cdecl]<int*, int> cuDeviceGetCount;
    public readonly delegate* unmanaged[Cdecl]<int*, int, int> cuDeviceGet;
    public readonly delegate* unmanaged[Cdecl]<byte*, int, int, int> cuDeviceGetName;
    public readonly delegate* unmanaged[Cdecl]<int*, int, int, int> cuDeviceGetAttribute;
    public readonly delegate* unmanaged[Cdecl]<nuint*, int, int> cuDeviceTotalMem;
    public readonly delegate* unmanaged[Cdecl]<nint*, int, int> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged[Cdecl]<int, int> cuDevicePrimaryCtxRelease;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cuCtxSetCurrent;
    public readonly delegate* unmanaged[Cdecl]<nint*, uint, int> cuStreamCreate;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cuStreamDestroy;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cuStreamSynchronize;
    public readonly delegate* unmanaged[Cdecl]<nint*, uint, int> cuEventCreate;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, int> cuEventRecord;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cuEventSynchronize;
    public readonly delegate* unmanaged[Cdecl]<float*, nint, nint, int> cuEventElapsedTime;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cuEventDestroy;
    public readonly delegate* unmanaged[Cdecl]<nint*, nuint, nint, int> cuMemAllocAsync;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, int> cuMemFreeAsync;
    public readonly delegate* unmanaged[Cdecl]<nint*, nuint, int> cuMemAlloc;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cuMemFree;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, int> cuMemcpyHtoDAsync;
    public readonly delegate* unmanaged[Cdecl]<void*, nint, nuint, nint, int> cuMemcpyDtoHAsync;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nuint, nint, int> cuMemcpyDtoDAsync;
    public readonly delegate* unmanaged[Cdecl]<nint, byte, nuint, nint, int> cuMemsetD8Async;
    public readonly delegate* unmanaged[Cdecl]<nint*, void*, int> cuModuleLoadData;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint, byte*, int> cuModuleGetFunction;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cuModuleUnload;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int> cuFuncSetAttribute;
    public readonly delegate* unmanaged[Cdecl]<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> cuLaunchKernel;

    /// <summary>Loads libcuda.so.1; null (with the probe explaining why) when it is not there.</summary>
    public static DriverApi? TryLoad(out ProbeResult probe)
    {
        probe = LibraryProbe.Find(NativeLibrarySpec.CudaDriver);
        return probe.Found ? new DriverApi(probe) : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check(int status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != Success) Throw(status, call);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Throw(int status, string call)
    {
        var (name, description) = Describe(status);
        string callName = CallName(call);
        if (status == ErrorOutOfMemory) throw new DeviceOutOfMemoryException($"{callName} failed: {name} ({status}): {description}");
        throw new CudaException(callName, status, name, description);
    }

    public (string Name, string Description) Describe(int status)
    {
        byte* name = null, text = null;
        bool known = cuGetErrorName(status, &name) == Success & cuGetErrorString(status, &text) == Success;
        return known
            ? (Marshal.PtrToStringUTF8((nint)name) ?? "?", Marshal.PtrToStringUTF8((nint)text) ?? "?")
            : ($"CUresult {status}", "unknown error code");
    }

    /// <summary>"api.cuMemAlloc(&amp;p, n)" → "cuMemAlloc": the called name from the checked expression.</summary>
    internal static string CallName(string expression)
    {
        int paren = expression.IndexOf('(');
        string callee = paren < 0 ? expression : expression[..paren];
        return callee[(callee.LastIndexOf('.') + 1)..];
    }
}
