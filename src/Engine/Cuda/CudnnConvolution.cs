using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Memory;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// Float32 NCHW convolution and its gradients through cuDNN, and the half-precision forward of the fp16 inference path
/// (half tensors, float accumulation: cuDNN's pseudo-half configuration, tensor cores allowed). The descriptors are set up once per geometry
/// and kept, each pass's algorithm from its first call; the workspace is rented from the device pool per call, which is safe because the pool's
/// blocks are stream-ordered and cuDNN runs on the runtime's one stream.
/// </summary>
internal sealed unsafe class CudnnConvolution : IDeviceConvolution, IDisposable
{
    private const int FormatNchw = 0;
    private const int DataFloat = 0;
    private const int DataHalf = 2;
    private const int CrossCorrelation = 1;
    // FMA math keeps TF32 out, so results stay within the checks' tolerance of the CPU twin.
    private const int FmaMath = 3;
    // Half storage has already given up TF32's precision and more, so tensor cores may run it.
    private const int TensorOpMath = 1;
    private const int RequestedAlgorithms = 8;
    private const long WorkspaceLimit = 1L << 30;

    private readonly CudnnApi _api;
    private readonly PrimaryContext _context;
    private readonly IMemoryPool _pool;
    private readonly nint _handle;
    private readonly Dictionary<(Conv2dGeometry Geometry, bool Half), Plan> _plans = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    public CudnnConvolution(CudnnApi api, PrimaryContext context, nint stream, IMemoryPool pool)
    {
        _api = api;
        _context = context;
        _pool = pool;
        context.MakeCurrent();
        nint handle;
        api.Check(api.cudnnCreate(&handle), "cudnnCreate");
        _handle = handle;
        api.Check(api.cudnnSetStream(handle, stream), "cudnnSetStream");
    }

    public void Forward(in Conv2dGeometry geometry, nint x, nint w, nint y) => Run(geometry, Pass.Forward, x, w, y);

    public void ForwardHalf(in Conv2dGeometry geometry, nint x, nint w, nint y) => Run(geometry, Pass.Forward, x, w, y, half: true);

    public void BackwardData(in Conv2dGeometry geometry, nint dy, nint w, nint dx) => Run(geometry, Pass.BackwardData, dy, w, dx);

    public void BackwardFilter(in Conv2dGeometry geometry, nint x, nint dy, nint dw) => Run(geometry, Pass.BackwardFilter, x, dy, dw);

    /// <summary>One pass of the geometry's plan; its algorithm is chosen on the pass's first call.</summary>
    private void Run(in Conv2dGeometry geometry, Pass pass, nint first, nint second, nint output, bool half = false)
    {
        _context.MakeCurrent();
        Plan plan;
        Algorithm algorithm;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_plans.TryGetValue((geometry, half), out plan!)) _plans[(geometry, half)] = plan = CreatePlan(geometry, half);
            algorithm = plan.Algorithms[(int)pass] ??= ChooseAlgorithm(plan, geometry, pass);
        }
        nint workspace = 0;
        long capacity = 0;
        if (algorithm.WorkspaceBytes > 0) workspace = _pool.Rent(algorithm.WorkspaceBytes, out capacity);
        try
        {
            float alpha = 1, beta = 0;
            nuint bytes = (nuint)algorithm.WorkspaceBytes;
            nint conv = plan.Convolution.Value;
            switch (pass)
            {
                case Pass.Forward:
                    _api.Check(_api.cudnnConvolutionForward(_handle, &alpha, plan.X.Value, first, plan.W.Value, second, conv,
                        algorithm.Id, workspace, bytes, &beta, plan.Y.Value, output), "cudnnConvolutionForward");
                    break;
                case Pass.BackwardData:
                    _api.Check(_api.cudnnConvolutionBackwardData(_handle, &alpha, plan.W.Value, second, plan.Y.Value, first, conv,
                        algorithm.Id, workspace, bytes, &beta, plan.X.Value, output), "cudnnConvolutionBackwardData");
                    break;
                default:
                    _api.Check(_api.cudnnConvolutionBackwardFilter(_handle, &alpha, plan.X.Value, first, plan.Y.Value, second, conv,
                        algorithm.Id, workspace, bytes, &beta, plan.W.Value, output), "cudnnConvolutionBackwardFilter");
                    break;
            }
        }
        finally
        {
            if (workspace != 0) _pool.Return(workspace, capacity);
        }
    }

    private Plan CreatePlan(in Conv2dGeometry g, bool half)
    {
        int data = half ? DataHalf : DataFloat;
        if (g.Groups < 1 || g.C % g.Groups != 0 || g.K % g.Groups != 0 || g.OutH < 1 || g.OutW < 1)
            throw new ArgumentException($"conv2d (cuDNN): invalid geometry {g} (output {g.OutH}x{g.OutW})");
        var x = Create(_api.cudnnCreateTensorDescriptor, _api.cudnnDestroyTensorDescriptor, "cudnnCreateTensorDescriptor");
        var w = Create(_api.cudnnCreateFilterDescriptor, _api.cudnnDestroyFilterDescriptor, "cudnnCreateFilterDescriptor");
        var conv = Create(_api.cudnnCreateConvolutionDescriptor, _api.cudnnDestroyConvolutionDescriptor, "cudnnCreateConvolutionDescriptor");
        var y = Create(_api.cudnnCreateTensorDescriptor, _api.cudnnDestroyTensorDescriptor, "cudnnCreateTensorDescriptor");
        var plan = new Plan(x, w, conv, y);
        try
        {
            _api.Check(_api.cudnnSetTensor4dDescriptor(x.Value, FormatNchw, data, g.N, g.C, g.H, g.W), "cudnnSetTensor4dDescriptor");
            _api.Check(_api.cudnnSetFilter4dDescriptor(w.Value, data, FormatNchw, g.K, g.C / g.Groups, g.R, g.S), "cudnnSetFilter4dDescriptor");
            _api.Check(_api.cudnnSetConvolution2dDescriptor(conv.Value, g.PadH, g.PadW, g.StrideH, g.StrideW, g.DilationH, g.DilationW,
                CrossCorrelation, DataFloat), "cudnnSetConvolution2dDescriptor");
            _api.Check(_api.cudnnSetConvolutionGroupCount(conv.Value, g.Groups), "cudnnSetConvolutionGroupCount");
            _api.Check(_api.cudnnSetConvolutionMathType(conv.Value, half ? TensorOpMath : FmaMath), "cudnnSetConvolutionMathType");
            _api.Check(_api.cudnnSetTensor4dDescriptor(y.Value, FormatNchw, data, g.N, g.K, g.OutH, g.OutW), "cudnnSetTensor4dDescriptor");
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>The heuristic's fastest algorithm for <paramref name="pass"/> that succeeds within the workspace limit.</summary>
    private Algorithm ChooseAlgorithm(Plan plan, in Conv2dGeometry g, Pass pass)
    {
        var results = stackalloc CudnnApi.AlgorithmPerformance[RequestedAlgorithms];
        int returned;
        nint x = plan.X.Value, w = plan.W.Value, conv = plan.Convolution.Value, y = plan.Y.Value;
        _api.Check(pass switch
        {
            Pass.Forward => _api.cudnnGetConvolutionForwardAlgorithm_v7(_handle, x, w, conv, y, RequestedAlgorithms, &returned, results),
            Pass.BackwardData => _api.cudnnGetConvolutionBackwardDataAlgorithm_v7(_handle, w, y, conv, x, RequestedAlgorithms, &returned, results),
            _ => _api.cudnnGetConvolutionBackwardFilterAlgorithm_v7(_handle, x, y, conv, w, RequestedAlgorithms, &returned, results),
        }, $"cudnnGetConvolution{pass}Algorithm_v7");
        for (int i = 0; i < returned; i++)
        {
            if (results[i].Status != 0 || (long)results[i].Memory > WorkspaceLimit) continue;
            nuint bytes;
            int algorithm = results[i].Algorithm;
            _api.Check(pass switch
            {
                Pass.Forward => _api.cudnnGetConvolutionForwardWorkspaceSize(_handle, x, w, conv, y, algorithm, &bytes),
                Pass.BackwardData => _api.cudnnGetConvolutionBackwardDataWorkspaceSize(_handle, w, y, conv, x, algorithm, &bytes),
                _ => _api.cudnnGetConvolutionBackwardFilterWorkspaceSize(_handle, x, y, conv, w, algorithm, &bytes),
            }, $"cudnnGetConvolution{pass}WorkspaceSize");
            return new Algorithm(algorithm, (long)bytes);
        }
        throw new NotSupportedException($"conv2d (cuDNN): no {pass} algorithm for {g} within {WorkspaceLimit >> 20} MiB of workspace");
    }

    private static NativeHandle Create(delegate* unmanaged[Cdecl]<nint*, int> create, delegate* unmanaged[Cdecl]<nint, int> destroy, string call)
    {
        nint raw;
        int status = create(&raw);
        if (status != 0) throw new CudaException(call, status, $"cudnnStatus_t {status}", "descriptor creation failed");
        return new NativeHandle(raw, destroy);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _context.MakeCurrent();
            foreach (var plan in _plans.Values) plan.Dispose();
            _plans.Clear();
            _api.Check(_api.cudnnDestroy(_handle), "cudnnDestroy");
        }
    }

    private sealed class Plan(NativeHandle x, NativeHandle w, NativeHandle convolution, NativeHandle y) : IDisposable
    {
        public NativeHandle X { get; } = x;
        public NativeHandle W { get; } = w;
        public NativeHandle Convolution { get; } = convolution;
        public NativeHandle Y { get; } = y;

        /// <summary>Per <see cref="Pass"/>, chosen on its first use.</summary>
        public Algorithm?[] Algorithms { get; } = new Algorithm?[3];

        public void Dispose()
        {
            X.Dispose();
            W.Dispose();
            Convolution.Dispose();
            Y.Dispose();
        }
    }

    private enum Pass
    {
        Forward,
        BackwardData,
        BackwardFilter,
    }

    private readonly record struct Algorithm(int Id, long WorkspaceBytes);
}
