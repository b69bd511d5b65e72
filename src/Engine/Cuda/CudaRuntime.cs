using System.Collections.Concurrent;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Memory;
using NativeSeg.Engine.Native;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// One CUDA device behind <see cref="IDeviceRuntime"/>: its primary context, one non-blocking stream
/// that all work (our kernels, copies, cuBLAS, cuDNN) is queued on in order, a caching pool over
/// stream-ordered allocation, and NVRTC-compiled modules cached per source hash.
/// </summary>
public sealed unsafe class CudaRuntime : IDeviceRuntime
{
    private const uint StreamNonBlocking = 1;
    private const int AttributeMaxDynamicSharedBytes = 8;

    private readonly DriverApi _api;
    private readonly PrimaryContext _context;
    private readonly NativeHandle _stream;
    private readonly CachingPool _pool;
    private readonly KernelCompiler _compiler;
    // Lazy, so two threads asking for a new source at once compile and load it once.
    private readonly ConcurrentDictionary<string, Lazy<CudaModule>> _modules = new(StringComparer.Ordinal);
    private readonly Lazy<CudaBlas> _blas;
    private readonly CudnnConvolution? _convolution;
    private bool _disposed;

    private CudaRuntime(DriverApi api, CudaDeviceInfo info, Nvrtc nvrtc)
    {
        _api = api;
        Info = info;
        // Settle the architecture first: a device NVRTC cannot target fails before anything is created.
        _compiler = new KernelCompiler(nvrtc, new KernelCache(KernelCache.DefaultDirectory()));
        Architecture = _compiler.ArchitectureFor(info.Major, info.Minor);
        _context = new PrimaryContext(api, info.Ordinal);
        _context.MakeCurrent();
        nint stream;
        api.Check(api.cuStreamCreate(&stream, StreamNonBlocking));
        _stream = new NativeHandle(stream, api.cuStreamDestroy);
        var allocator = new DeviceAllocator(api, _context, stream, info.MemoryPools);
        // Bounded, so blocks held for reuse never starve cuBLAS and cuDNN, which allocate outside the pool.
        _pool = new CachingPool(allocator.Allocate, allocator.Release, info.TotalMemory / 4);
        // cuBLAS is needed only by ops that multiply matrices; load it on first use so kernel work runs without it.
        _blas = new Lazy<CudaBlas>(() => new CudaBlas(CublasApi.Load(), _context, _stream.Value));
        var cudnn = CudnnApi.TryLoad();
        if (cudnn is not null) _convolution = new CudnnConvolution(cudnn, _context, stream, _pool);
    }

    public CudaDeviceInfo Info { get; }

    public string Name => $"cuda:{Info.Ordinal} ({Info.Name})";

    public string Architecture { get; }

    public IMemoryPool Memory => _pool;

    public DeviceTraffic Traffic { get; } = new();

    public IDeviceBlas Blas => _blas.Value;

    public IDeviceConvolution? Convolution => _convolution;

    /// <summary>Opens device <paramref name="ordinal"/>; throws <see cref="CudaUnavailableException"/> saying what is missing.</summary>
    public static CudaRuntime Open(int ordinal)
    {
        var api = CudaDriver.Get();
        int count = CudaDriver.DeviceCount(api);
        if (ordinal < 0 || ordinal >= count)
            throw new CudaUnavailableException($"no CUDA device cuda:{ordinal}: the driver ({api.Library.Path}) sees {count} device(s)");
        Nvrtc nvrtc;
        try
        {
            nvrtc = Nvrtc.Load();
        }
        catch (NativeLibraryMissingException e)
        {
            throw new CudaUnavailableException($"kernels cannot be compiled: {e.Message}", e);
        }
        return new CudaRuntime(api, CudaDeviceInfo.Query(api, ordinal), nvrtc);
    }

    public void CopyHostToDevice(nint device, nint host, long bytes)
    {
        if (bytes == 0) return;
        Traffic.HostToDevice(bytes);
        _context.MakeCurrent();
        // From pageable memory the driver stages the data before returning, so the host buffer is free at once.
        _api.Check(_api.cuMemcpyHtoDAsync(device, (void*)host, (nuint)bytes, _stream.Value));
    }

    public void CopyDeviceToHost(nint host, nint device, long bytes)
    {
        if (bytes == 0) return;
        Traffic.DeviceToHost(bytes);
        _context.MakeCurrent();
        _api.Check(_api.cuMemcpyDtoHAsync((void*)host, device, (nuint)bytes, _stream.Value));
        _api.Check(_api.cuStreamSynchronize(_stream.Value));
    }

    public void CopyDeviceToDevice(nint destination, nint source, long bytes)
    {
        if (bytes == 0) return;
        _context.MakeCurrent();
        _api.Check(_api.cuMemcpyDtoDAsync(destination, source, (nuint)bytes, _stream.Value));
    }

    public void Memset(nint device, byte value, long bytes)
    {
        if (bytes == 0) return;
        _context.MakeCurrent();
        _api.Check(_api.cuMemsetD8Async(device, value, (nuint)bytes, _stream.Value));
    }

    public IKernel GetKernel(KernelSource source, string entryPoint)
    {
        if (!_modules.TryGetValue(source.Hash, out var module))
            module = _modules.GetOrAdd(source.Hash, _ => new Lazy<CudaModule>(() => LoadModule(source)));
        return module.Value.Get(entryPoint);
    }

    private CudaModule LoadModule(KernelSource source)
    {
        _context.MakeCurrent();
        return new CudaModule(_api, source, _compiler.Compile(source, Architecture).Cubin);
    }

    public void Launch(IKernel kernel, Dim3 grid, Dim3 block, int sharedBytes, void** arguments, int count)
    {
        if (kernel is not CudaKernel k)
            throw new ArgumentException($"kernel '{kernel.Name}' was not made by this CUDA runtime", nameof(kernel));
        _context.MakeCurrent();
        if (sharedBytes > k.DynamicSharedLimit)
        {
            // Beyond 48 KiB a kernel must opt in to dynamic shared memory, once.
            _api.Check(_api.cuFuncSetAttribute(k.Function, AttributeMaxDynamicSharedBytes, sharedBytes));
            k.DynamicSharedLimit = sharedBytes;
        }
        _api.Check(_api.cuLaunchKernel(k.Function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, (uint)sharedBytes,
            _stream.Value, arguments, null));
        Traffic.Launch();
    }

    public void Synchronize()
    {
        Traffic.Synchronization();
        _context.MakeCurrent();
        _api.Check(_api.cuStreamSynchronize(_stream.Value));
    }

    public IDeviceEvent RecordEvent()
    {
        _context.MakeCurrent();
        return new CudaEvent(_api, _stream.Value);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _context.MakeCurrent();
        _api.cuStreamSynchronize(_stream.Value);
        _convolution?.Dispose();
        if (_blas.IsValueCreated) _blas.Value.Dispose();
        _pool.Dispose();
        foreach (var module in _modules.Values.Where(m => m.IsValueCreated)) module.Value.Dispose();
        _modules.Clear();
        _api.cuStreamSynchronize(_stream.Value);
        _stream.Dispose();
        _context.Dispose();
    }

    public override string ToString() => Name;
}
