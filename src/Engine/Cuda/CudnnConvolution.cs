using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Memory;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// Float32 NCHW convolution through cuDNN. The descriptors and algorithm are set up once per geometry
/// and kept; the workspace is rented from the device pool per call, which is safe because the pool's
/// blocks are stream-ordered and cuDNN runs on the runtime's one stream.
/// </summary>
internal sealed unsafe class CudnnConvolution : IDeviceConvolution, IDisposable
{
    private const int FormatNchw = 0;
    private const int DataFloat = 0;
    private const int CrossCorrelation = 1;
    // FMA math keeps TF32 out, so results stay within the checks' tolerance of the CPU twin.
    private const int FmaMath = 3;
    private const int RequestedAlgorithms = 8;
    private const long WorkspaceLimit = 1L << 30;

    private readonly CudnnApi _api;
    private readonly PrimaryContext _context;
    private readonly IMemoryPool _pool;
    private readonly nint _handle;
    private readonly Dictionary<Conv2dGeometry, Plan> _plans = [];
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

    public void Forward(in Conv2dGeometry geometry, nint x, nint w, nint y)
    {
        _context.MakeCurrent();
        Plan plan;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_plans.TryGetValue(geometry, out plan!)) _plans[geometry] = plan = CreatePlan(geometry);
        }
        nint workspace = 0;
        long capacity = 0;
        if (plan.WorkspaceBytes > 0) workspace = _pool.Rent(plan.WorkspaceBytes, out capacity);
        try
        {
            float alpha = 1, beta = 0;
            _api.Check(_api.cudnnConvolutionForward(_handle, &alpha, plan.X.Value, x, plan.W.Value, w, plan.Convolution.Value,
                plan.Algorithm, workspace, (nuint)plan.WorkspaceBytes, &beta, plan.Y.Value, y), "cudnnConvolutionForward");
        }
        finally
        {
            if (workspace != 0) _pool.Return(workspace, capacity);
        }
    }

    private Plan CreatePlan(in Conv2dGeometry g)
    {
        if (g.Groups < 1 || g.C % g.Groups != 0 || g.K % g.Groups != 0 || g.OutH < 1 || g.OutW < 1)
            throw new ArgumentException($"conv2d (cuDNN): invalid geometry {g} (output {g.OutH}x{g.OutW})");
        var x = Create(_api.cudnnCreateTensorDescriptor, _api.cudnnDestroyTensorDescriptor, "cudnnCreateTensorDescriptor");
        var w = Create(_api.cudnnCreateFilterDescriptor, _api.cudnnDestroyFilterDescriptor, "cudnnCreateFilterDescriptor");
        var conv = Create(_api.cudnnCreateConvolutionDescriptor, _api.cudnnDestroyConvolutionDescriptor, "cudnnCreateConvolutionDescriptor");
        var y = Create(_api.cudnnCreateTensorDescriptor, _api.cudnnDestroyTensorDescriptor, "cudnnCreateTensorDescriptor");
        var plan = new Plan(x, w, conv, y);
        try
        {
            _api.Check(_api.cudnnSetTensor4dDescriptor(x.Value, FormatNchw, DataFloat, g.N, g.C, g.H, g.W), "cudnnSetTensor4dDescriptor");
            _api.Check(_api.cudnnSetFilter4dDescriptor(w.Value, DataFloat, FormatNchw, g.K, g.C / g.Groups, g.R, g.S), "cudnnSetFilter4dDescriptor");
            _api.Check(_api.cudnnSetConvolution2dDescriptor(conv.Value, g.PadH, g.PadW, g.StrideH, g.StrideW, g.DilationH, g.DilationW,
                CrossCorrelation, DataFloat), "cudnnSetConvolution2dDescriptor");
            _api.Check(_api.cudnnSetConvolutionGroupCount(conv.Value, g.Groups), "cudnnSetConvolutionGroupCount");
            _api.Check(_api.cudnnSetConvolutionMathType(conv.Value, FmaMath), "cudnnSetConvolutionMathType");
            _api.Check(_api.cudnnSetTensor4dDescriptor(y.Value, FormatNchw, DataFloat, g.N, g.K, g.OutH, g.OutW), "cudnnSetTensor4dDescriptor");
            ChooseAlgorithm(plan, g);
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>The heuristic's fastest algorithm that succeeds within the workspace limit.</summary>
    private void ChooseAlgorithm(Plan plan, in Conv2dGeometry g)
    {
        var results = stackalloc CudnnApi.AlgorithmPerformance[RequestedAlgorithms];
        int returned;
        _api.Check(_api.cudnnGetConvolutionForwardAlgorithm_v7(_handle, plan.X.Value, plan.W.Value, plan.Convolution.Value, plan.Y.Value,
            RequestedAlgorithms, &returned, results), "cudnnGetConvolutionForwardAlgorithm_v7");
        for (int i = 0; i < returned; i++)
        {
            if (results[i].Status != 0 || (long)results[i].Memory > WorkspaceLimit) continue;
            nuint bytes;
            _api.Check(_api.cudnnGetConvolutionForwardWorkspaceSize(_handle, plan.X.Value, plan.W.Value, plan.Convolution.Value,
                plan.Y.Value, results[i].Algorithm, &bytes), "cudnnGetConvolutionForwardWorkspaceSize");
            plan.Algorithm = results[i].Algorithm;
            plan.WorkspaceBytes = (long)bytes;
            return;
        }
        throw new NotSupportedException($"conv2d (cuDNN): no forward algorithm for {g} within {WorkspaceLimit >> 20} MiB of workspace");
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
        public int Algorithm { get; set; }
        public long WorkspaceBytes { get; set; }

        public void Dispose()
        {
            X.Dispose();
            W.Dispose();
            Convolution.Dispose();
            Y.Dispose();
        }
    }
}
