using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Memory;

/// <summary>
/// Host memory for CPU tensors: 64-byte aligned native blocks (AVX-512 friendly, and never moved by
/// the GC so they can be handed to OpenBLAS or a DMA copy as they are).
/// </summary>
public static class CpuMemory
{
    private const nuint Alignment = 64;

    /// <summary>Shared pool for all CPU tensors; caches up to 2 GiB of freed blocks.</summary>
    public static CachingPool Pool { get; } = new(Allocate, Release, 2L << 30);

    private static unsafe nint Allocate(long bytes)
    {
        void* p = NativeMemory.AlignedAlloc((nuint)bytes, Alignment);
        if (p == null) throw new OutOfMemoryException($"host allocation of {bytes} bytes failed");
        return (nint)p;
    }

    private static unsafe void Release(nint pointer) => NativeMemory.AlignedFree((void*)pointer);
}
