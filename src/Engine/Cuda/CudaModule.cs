using System.Collections.Concurrent;
using System.Text;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Engine.Cuda;

/// <summary>A compiled entry point; remembers how much dynamic shared memory it was allowed.</summary>
internal sealed class CudaKernel(string name, nint function) : IKernel
{
    /// <summary>What every kernel may use without opting in.</summary>
    public const int DefaultDynamicSharedLimit = 48 * 1024;

    public string Name { get; } = name;

    public nint Function { get; } = function;

    public int DynamicSharedLimit { get; set; } = DefaultDynamicSharedLimit;

    public override string ToString() => Name;
}

/// <summary>A loaded CUBIN and the entry points looked up in it so far.</summary>
internal sealed unsafe class CudaModule : IDisposable
{
    private readonly DriverApi _api;
    private readonly NativeHandle _module;
    private readonly ConcurrentDictionary<string, CudaKernel> _kernels = new(StringComparer.Ordinal);

    public CudaModule(DriverApi api, KernelSource source, byte[] cubin)
    {
        _api = api;
        Source = source;
        nint raw;
        fixed (byte* image = cubin) api.Check(api.cuModuleLoadData(&raw, image));
        _module = new NativeHandle(raw, api.cuModuleUnload);
    }

    public KernelSource Source { get; }

    public CudaKernel Get(string entryPoint) =>
        _kernels.TryGetValue(entryPoint, out var kernel) ? kernel : _kernels.GetOrAdd(entryPoint, Load);

    private CudaKernel Load(string entryPoint)
    {
        byte[] name = Encoding.UTF8.GetBytes(entryPoint + "\0");
        nint function;
        int status;
        fixed (byte* p = name) status = _api.cuModuleGetFunction(&function, _module.Value, p);
        if (status != DriverApi.Success)
        {
            var (error, description) = _api.Describe(status);
            throw new CudaException("cuModuleGetFunction", status, error, description,
                $"entry point '{entryPoint}' in {Source.Name}");
        }
        return new CudaKernel(entryPoint, function);
    }

    public void Dispose() => _module.Dispose();
}
