using System.Runtime.InteropServices;
using NativeSeg.Engine.Native;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// The legacy (imperative) cuDNN convolution API, which cuDNN 9 still exports from libcudnn.so.9
/// (forwarding to libcudnn_ops / libcudnn_cnn).
/// </summary>
internal sealed unsafe class CudnnApi
{
    private static readonly Lock Gate = new();
    private static CudnnApi? _loaded;

    private readonly delegate* unmanaged[Cdecl]<int, byte*> _errorString;

    private CudnnApi(ProbeResult library)
    {
        Library = library;
        var e = new Exports(library);
        _errorString = (delegate* unmanaged[Cdecl]<int, byte*>)e.Require("cudnnGetErrorString");
        cudnnCreate = (delegate* unmanaged[Cdecl]<nint*, int>)e.Require("cudnnCreate");
        cudnnDestroy = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cudnnDestroy");
        cudnnSetStream = (delegate* unmanaged[Cdecl]<nint, nint, int>)e.Require("cudnnSetStream");
        cudnnCreateTensorDescriptor = (delegate* unmanaged[Cdecl]<nint*, int>)e.Require("cudnnCreateTensorDescriptor");
        cudnnSetTensor4dDescriptor = (delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, int, int>)e.Require("cudnnSetTensor4dDescriptor");
        cudnnDestroyTensorDescriptor = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cudnnDestroyTensorDescriptor");
        cudnnCreateFilterDescriptor = (delegate* unmanaged[Cdecl]<nint*, int>)e.Require("cudnnCreateFilterDescriptor");
        cudnnSetFilter4dDescriptor = (delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, int, int>)e.Require("cudnnSetFilter4dDescriptor");
        cudnnDestroyFilterDescriptor = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cudnnDestroyFilterDescriptor");
        cudnnCreateConvolutionDescriptor = (delegate* unmanaged[Cdecl]<nint*, int>)e.Require("cudnnCreateConvolutionDescriptor");
        cudnnSetConvolution2dDescriptor = (delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, int, int, int, int>)e.Require("cudnnSetConvolution2dDescriptor");
        cudnnSetConvolutionGroupCount = (delegate* unmanaged[Cdecl]<nint, int, int>)e.Require("cudnnSetConvolutionGroupCount");
        cudnnSetConvolutionMathType = (delegate* unmanaged[Cdecl]<nint, int, int>)e.Require("cudnnSetConvolutionMathType");
        cudnnDestroyConvolutionDescriptor = (delegate* unmanaged[Cdecl]<nint, int>)e.Require("cudnnDestroyConvolutionDescriptor");
        cudnnGetConvolutionForwardAlgorithm_v7 = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, int*, AlgorithmPerformance*, int>)
            e.Require("cudnnGetConvolutionForwardAlgorithm_v7");
        cudnnGetConvolutionForwardWorkspaceSize = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, nuint*, int>)
            e.Require("cudnnGetConvolutionForwardWorkspaceSize");
        cudnnConvolutionForward = (delegate* unmanaged[Cdecl]<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int>)
            e.Require("cudnnConvolutionForward");
        cudnnGetConvolutionBackwardDataAlgorithm_v7 = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, int*, AlgorithmPerformance*, int>)
            e.Require("cudnnGetConvolutionBackwardDataAlgorithm_v7");
        cudnnGetConvolutionBackwardDataWorkspaceSize = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, nuint*, int>)
            e.Require("cudnnGetConvolutionBackwardDataWorkspaceSize");
        cudnnConvolutionBackwardData = (delegate* unmanaged[Cdecl]<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int>)
            e.Require("cudnnConvolutionBackwardData");
        cudnnGetConvolutionBackwardFilterAlgorithm_v7 = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, int*, AlgorithmPerformance*, int>)
            e.Require("cudnnGetConvolutionBackwardFilterAlgorithm_v7");
        cudnnGetConvolutionBackwardFilterWorkspaceSize = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, nuint*, int>)
            e.Require("cudnnGetConvolutionBackwardFilterWorkspaceSize");
        cudnnConvolutionBackwardFilter = (delegate* unmanaged[Cdecl]<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int>)
            e.Require("cudnnConvolutionBackwardFilter");
    }

    public ProbeResult Library { get; }

    public readonly delegate* unmanaged[Cdecl]<nint*, int> cudnnCreate;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cudnnDestroy;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, int> cudnnSetStream;
    public readonly delegate* unmanaged[Cdecl]<nint*, int> cudnnCreateTensorDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, int, int> cudnnSetTensor4dDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cudnnDestroyTensorDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint*, int> cudnnCreateFilterDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, int, int> cudnnSetFilter4dDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cudnnDestroyFilterDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint*, int> cudnnCreateConvolutionDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int, int, int, int, int, int, int, int> cudnnSetConvolution2dDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int> cudnnSetConvolutionGroupCount;
    public readonly delegate* unmanaged[Cdecl]<nint, int, int> cudnnSetConvolutionMathType;
    public readonly delegate* unmanaged[Cdecl]<nint, int> cudnnDestroyConvolutionDescriptor;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, int*, AlgorithmPerformance*, int> cudnnGetConvolutionForwardAlgorithm_v7;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, nuint*, int> cudnnGetConvolutionForwardWorkspaceSize;
    public readonly delegate* unmanaged[Cdecl]<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int> cudnnConvolutionForward;
    // Backward data: (handle, wDesc, dyDesc, convDesc, dxDesc, ...); the call takes (…, wDesc, w, dyDesc, dy, convDesc, algo, workspace, bytes, β, dxDesc, dx).
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, int*, AlgorithmPerformance*, int> cudnnGetConvolutionBackwardDataAlgorithm_v7;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, nuint*, int> cudnnGetConvolutionBackwardDataWorkspaceSize;
    public readonly delegate* unmanaged[Cdecl]<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int> cudnnConvolutionBackwardData;
    // Backward filter: (handle, xDesc, dyDesc, convDesc, dwDesc, ...); the call takes (…, xDesc, x, dyDesc, dy, convDesc, algo, workspace, bytes, β, dwDesc, dw).
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, int*, AlgorithmPerformance*, int> cudnnGetConvolutionBackwardFilterAlgorithm_v7;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int, nuint*, int> cudnnGetConvolutionBackwardFilterWorkspaceSize;
    public readonly delegate* unmanaged[Cdecl]<nint, float*, nint, nint, nint, nint, nint, int, nint, nuint, float*, nint, nint, int> cudnnConvolutionBackwardFilter;

    /// <summary>cuDNN when loadable, else null: it is optional, ops fall back to their own kernels.</summary>
    public static CudnnApi? TryLoad()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            var probe = LibraryProbe.Find(NativeLibrarySpec.Cudnn);
            return probe.Found ? _loaded = new CudnnApi(probe) : null;
        }
    }

    public void Check(int status, string call)
    {
        if (status == 0) return;
        string text = Marshal.PtrToStringUTF8((nint)_errorString(status)) ?? "?";
        throw new CudaException(call, status, text, text);
    }

    /// <summary>cudnnConvolutionFwdAlgoPerf_t; the backward-data and backward-filter structs have the same layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct AlgorithmPerformance
    {
        public int Algorithm;
        public int Status;
        public float Time;
        public nuint Memory;
        public int Determinism;
        public int MathType;
        public int Reserved0;
        public int Reserved1;
        public int Reserved2;
    }
}
