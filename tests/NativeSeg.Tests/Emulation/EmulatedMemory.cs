using System.Runtime.InteropServices;
using NativeSeg.Engine.Memory;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// "Device" memory of the emulator: host blocks pooled by a <see cref="CachingPool"/> like the real
/// device's. Every block handed out is filled with 0xFF (NaN as float, -1 as int) because cudaMalloc
/// memory holds garbage, and a kernel that leaves part of its output unwritten must not pass by luck.
/// </summary>
internal sealed unsafe class EmulatedMemory : IMemoryPool, IDisposable
{
    private readonly CachingPool _pool = new(Allocate, Release, 1L << 30);

    public long BytesInUse => _pool.BytesInUse;

    public long BytesCached => _pool.BytesCached;

    public nint Rent(long bytes, out long capacity)
    {
        nint block = _pool.Rent(bytes, out capacity);
        NativeMemory.Fill((void*)block, (nuint)capacity, 0xFF);
        return block;
    }

    public void Return(nint pointer, long capacity) => _pool.Return(pointer, capacity);

    public void Trim() => _pool.Trim();

    public void Dispose() => _pool.Dispose();

    private static nint Allocate(long bytes)
    {
        void* p = NativeMemory.AlignedAlloc((nuint)bytes, 256);
        return p == null ? throw new OutOfMemoryException($"emulated device allocation of {bytes} bytes failed") : (nint)p;
    }

    private static void Release(nint pointer) => NativeMemory.AlignedFree((void*)pointer);
}
