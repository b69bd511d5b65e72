using System.Collections.Concurrent;

namespace NativeSeg.Engine.Memory;

/// <summary>
/// Size-class caching on top of a raw allocator. Freed blocks go to a per-class free list and are
/// reused by the next request of that class; when the cache would exceed its limit the block is
/// released instead. On CUDA the raw allocator is stream-ordered and all work runs on one stream, so
/// a block returned here may be reused at once: later work on that stream runs after earlier work.
/// </summary>
public sealed class CachingPool : IMemoryPool, IDisposable
{
    private readonly Func<long, nint> _allocate;
    private readonly Action<nint> _release;
    private readonly long _cacheLimit;
    private readonly ConcurrentDictionary<long, ConcurrentBag<nint>> _free = new();
    private long _inUse;
    private long _cached;
    private bool _disposed;

    public CachingPool(Func<long, nint> allocate, Action<nint> release, long cacheLimitBytes)
    {
        _allocate = allocate;
        _release = release;
        _cacheLimit = cacheLimitBytes;
    }

    public long BytesInUse => Interlocked.Read(ref _inUse);

    public long BytesCached => Interlocked.Read(ref _cached);

    public nint Rent(long bytes, out long capacity)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        capacity = SizeClasses.RoundUp(bytes);
        if (_free.TryGetValue(capacity, out var bag) && bag.TryTake(out nint cachedBlock))
        {
            Interlocked.Add(ref _cached, -capacity);
            Interlocked.Add(ref _inUse, capacity);
            return cachedBlock;
        }
        nint block;
        try
        {
            block = _allocate(capacity);
        }
        catch (Exception e) when (e is OutOfMemoryException or Cuda.DeviceOutOfMemoryException)
        {
            // Cached blocks of other sizes may be what stands between us and success. The host allocator
            // and the GPU's report exhaustion with different exception types.
            Trim();
            block = _allocate(capacity);
        }
        Interlocked.Add(ref _inUse, capacity);
        return block;
    }

    public void Return(nint pointer, long capacity)
    {
        Interlocked.Add(ref _inUse, -capacity);
        if (_disposed || Interlocked.Read(ref _cached) + capacity > _cacheLimit)
        {
            _release(pointer);
            return;
        }
        _free.GetOrAdd(capacity, _ => new ConcurrentBag<nint>()).Add(pointer);
        Interlocked.Add(ref _cached, capacity);
    }

    public void Trim()
    {
        foreach (var (capacity, bag) in _free)
        {
            while (bag.TryTake(out nint block))
            {
                Interlocked.Add(ref _cached, -capacity);
                _release(block);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        Trim();
        _disposed = true;
    }
}
