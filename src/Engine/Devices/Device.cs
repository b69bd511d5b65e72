using NativeSeg.Engine.Memory;

namespace NativeSeg.Engine.Devices;

public enum DeviceKind
{
    Cpu,

    /// <summary>A CUDA device, or an emulation of one that runs the same kernels on the host.</summary>
    Cuda,
}

/// <summary>Where a tensor lives and where the ops on it run.</summary>
public sealed class Device
{
    private Device(DeviceKind kind, IDeviceRuntime? runtime, IMemoryPool pool)
    {
        Kind = kind;
        Runtime = runtime;
        Pool = pool;
    }

    public static Device Cpu { get; } = new(DeviceKind.Cpu, null, CpuMemory.Pool);

    public DeviceKind Kind { get; }

    public bool IsCpu => Kind == DeviceKind.Cpu;

    /// <summary>The runtime that launches kernels and moves memory; null for the CPU.</summary>
    public IDeviceRuntime? Runtime { get; }

    public IMemoryPool Pool { get; }

    /// <summary>The runtime of a CUDA device; throws for the CPU so op code cannot silently mix them up.</summary>
    public IDeviceRuntime Gpu => Runtime ?? throw new InvalidOperationException("the CPU device has no CUDA runtime");

    public static Device ForRuntime(IDeviceRuntime runtime) => new(DeviceKind.Cuda, runtime, runtime.Memory);

    public override string ToString() => Runtime is null ? "cpu" : Runtime.Name;
}
