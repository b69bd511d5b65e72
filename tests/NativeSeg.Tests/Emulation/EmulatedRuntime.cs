using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Memory;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// A CUDA device emulated on the host: kernels are the real .cu sources compiled by g++ under
/// cuda_emulation.h, launched through the same op code as on a GPU. Launches run to completion before
/// <see cref="Launch"/> returns, so the stream is trivially in order. Safe to share between threads.
/// </summary>
public sealed unsafe class EmulatedRuntime : IDeviceRuntime
{
    private const int ErrorCapacity = 4096;

    private readonly EmulatedMemory _memory = new();
    private readonly ConcurrentDictionary<string, Lazy<EmulatedModule>> _modules = new();
    private readonly ConcurrentDictionary<(string Source, string Entry), long> _launched = new();

    public string Name => "cuda-emulator";

    public string Architecture => "emulated";

    public IMemoryPool Memory => _memory;

    public DeviceTraffic Traffic { get; } = new();

    public IDeviceBlas Blas { get; } = new EmulatedBlas();

    /// <summary>None, so convolutions take their own-kernel path and that gets tested.</summary>
    public IDeviceConvolution? Convolution => null;

    /// <summary>Every (source name, entry point) that has completed a launch on this runtime.</summary>
    public IReadOnlyCollection<(string Source, string Entry)> Launched => _launched.Keys.ToArray();

    /// <summary>Completed launches per (source name, entry point) so far; comparing two snapshots shows what ran in between.</summary>
    public IReadOnlyDictionary<(string Source, string Entry), long> LaunchCounts => new Dictionary<(string Source, string Entry), long>(_launched);

    public void CopyHostToDevice(nint device, nint host, long bytes)
    {
        if (bytes == 0) return;
        Traffic.HostToDevice(bytes);
        Copy(device, host, bytes);
    }

    public void CopyDeviceToHost(nint host, nint device, long bytes)
    {
        if (bytes == 0) return;
        Traffic.DeviceToHost(bytes);
        Copy(host, device, bytes);
    }

    public void CopyDeviceToDevice(nint destination, nint source, long bytes) => Copy(destination, source, bytes);

    public void Memset(nint device, byte value, long bytes) =>
        NativeMemory.Fill((void*)device, checked((nuint)bytes), value);

    public IKernel GetKernel(KernelSource source, string entryPoint) =>
        _modules.GetOrAdd(source.Hash, _ => new Lazy<EmulatedModule>(() => new EmulatedModule(source))).Value.Kernel(entryPoint);

    public void Launch(IKernel kernel, Dim3 grid, Dim3 block, int sharedBytes, void** arguments, int count)
    {
        if (kernel is not EmulatedKernel k)
            throw new ArgumentException($"kernel {kernel.Name} was not compiled by the emulator", nameof(kernel));
        ArgumentOutOfRangeException.ThrowIfNegative(sharedBytes);
        uint* dims = stackalloc uint[] { grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z };
        byte* error = stackalloc byte[ErrorCapacity];
        int status;
        lock (k.Module.LaunchLock) status = k.Shim(dims, (uint)sharedBytes, arguments, count, error, ErrorCapacity);
        if (status != 0)
        {
            string message = Marshal.PtrToStringUTF8((nint)error) ?? "";
            throw new InvalidOperationException($"emulated launch of {k} with grid {grid}, block {block} failed: {message}");
        }
        _launched.AddOrUpdate((k.Module.Source.Name, k.Name), 1, static (_, n) => n + 1);
        Traffic.Launch();
    }

    public void Synchronize() => Traffic.Synchronization();

    public IDeviceEvent RecordEvent() => new EmulatedEvent();

    public void Dispose() => _memory.Dispose();

    private static void Copy(nint destination, nint source, long bytes) =>
        Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes);
}
