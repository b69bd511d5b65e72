using System.Runtime.InteropServices;
using NativeSeg.Engine.Native;

namespace NativeSeg.Engine.Cuda;

/// <summary>The cuBLAS entry points we use. cublasSgemmStridedBatched and the Ex forms have no _v2 form.</summary>
internal sealed unsafe class CublasApi
{
    private static readonly Lock Gate = new();
    private static CublasApi? _loaded;

    private readonly delegate* unmanaged[Cdecl]<int, byte*> _statusName;
    private readonly delegate* unmanaged[Cdecl]<int, byte*> _statusString;

    private CublasApi(ProbeResult library)
    {
        Library = library;
        var e = new Exports(library);
        cublasCreate = (delegate* unmanaged[Cdecl]<nint*, int>)e.Require("cublasCreate_v2");
        cublasDestroy = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cublasDestroy_v2");
        cublasSetStream = (delegate* unmanaged[Cdecl]<nint, nint, int>)e.Require("cublasSetStream_v2");
        cublasSgemm = (delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int>)
            e.Require("cublasSgemm_v2");
        cublasSgemmStridedBatched = (delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, long, nint, int, long, float*, nint, int, long, int, int>)
            e.Require("cublasSgemmStridedBatched");
        cublasGemmEx = (delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int>)
            e.Require("cublasGemmEx");
        cublasGemmStridedBatchedEx = (delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, int, long, nint, int, int, long, float*, nint, int, int, long, int, int, int, int>)
            e.Require("cublasGemmStridedBatchedEx");
        // The status names arrived in cuBLAS 11.4.2; older versions get the number alone.
        _statusName = (delegate* unmanaged[Cdecl]<int, byte*>)e.Optional("cublasGetStatusName");
        _statusString = (delegate* unmanaged[Cdecl]<int, byte*>)e.Optional("cublasGetStatusString");
    }

    public ProbeResult Library { get; }

    public readonly delegate* unmanaged[Cdecl]<nint*, int> cublasCreate;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cublasDestroy;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, int> cublasSetStream;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, nint, int, float*, nint, int, int> cublasSgemm;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, long, nint, int, long, float*, nint, int, long, int, int> cublasSgemmStridedBatched;

    /// <summary>(handle, opA, opB, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc, computeType, algo).</summary>
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int> cublasGemmEx;

    /// <summary>As <see cref="cublasGemmEx"/> with a stride after each of lda, ldb and ldc, then the batch count.</summary>
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, float*, nint, int, int, long, nint, int, int, long, float*, nint, int, int, long, int, int, int, int> cublasGemmStridedBatchedEx;

    public static CublasApi Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            var probe = LibraryProbe.Find(NativeLibrarySpec.Cublas);
            if (!probe.Found) throw new NativeLibraryMissingException(probe);
            return _loaded = new CublasApi(probe);
        }
    }

    public void Check(int status, string call)
    {
        if (status == 0) return;
        string name = _statusName == null ? $"cublasStatus_t {status}" : Marshal.PtrToStringUTF8((nint)_statusName(status)) ?? "?";
        string text = _statusString == null ? "see cublas_api.h" : Marshal.PtrToStringUTF8((nint)_statusString(status)) ?? "?";
        throw new CudaException(call, status, name, text);
    }
}
