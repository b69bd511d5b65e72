using System.Runtime.InteropServices;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Tests.Emulation;

/// <summary>A kernel source compiled for emulation and loaded into the process.</summary>
internal sealed unsafe class EmulatedModule
{
    // Keyed by library handle, not by module: every runtime that loads the same compiled source gets
    // the same handle from the loader, and with it the same statics.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<nint, Lock> LaunchLocks = new();

    private readonly nint _handle;

    public EmulatedModule(KernelSource source)
    {
        Source = source;
        _handle = NativeLibrary.Load(EmulationCompiler.Build(source));
        LaunchLock = LaunchLocks.GetOrAdd(_handle, _ => new Lock());
    }

    public KernelSource Source { get; }

    /// <summary>
    /// Held for the whole of a launch: block-shared memory is the kernel's function-local statics, one
    /// copy per loaded library, so two launches from it must not overlap — even from two emulated
    /// devices (the benchmark coverage test runs its own beside the shared one).
    /// </summary>
    public Lock LaunchLock { get; }

    public EmulatedKernel Kernel(string entryPoint)
    {
        if (!NativeLibrary.TryGetExport(_handle, EmulationCompiler.ShimName(entryPoint), out nint shim))
            throw new ArgumentException(
                $"{Source.Name} has no entry point '{entryPoint}' (found: {string.Join(", ", KernelCatalog.EntryPoints(Source))}); " +
                "entry points are declared extern \"C\" __global__ void");
        return new EmulatedKernel(this, entryPoint, (delegate* unmanaged[Cdecl]<uint*, uint, void**, int, byte*, int, int>)shim);
    }
}

/// <summary>One entry point's launch shim: grid and block dims, shared bytes, arguments, error buffer.</summary>
internal sealed unsafe class EmulatedKernel(
    EmulatedModule module, string name, delegate* unmanaged[Cdecl]<uint*, uint, void**, int, byte*, int, int> shim) : IKernel
{
    public EmulatedModule Module { get; } = module;

    public string Name { get; } = name;

    public delegate* unmanaged[Cdecl]<uint*, uint, void**, int, byte*, int, int> Shim { get; } = shim;

    public override string ToString() => $"{Module.Source.Name}:{Name}";
}
