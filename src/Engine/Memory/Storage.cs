namespace NativeSeg.Engine.Memory;

/// <summary>
/// One block of device or host memory shared by a tensor and its views. Reference counted: the block
/// goes back to its pool when the last tensor using it is disposed.
/// </summary>
public sealed class Storage
{
    private readonly IMemoryPool _pool;
    private readonly long _capacity;
    private int _references = 1;

    internal Storage(Devices.Device device, IMemoryPool pool, long bytes)
    {
        Device = device;
        _pool = pool;
        Bytes = bytes;
        Pointer = pool.Rent(bytes, out _capacity);
    }

    public Devices.Device Device { get; }

    public nint Pointer { get; }

    public long Bytes { get; }

    internal void AddReference()
    {
        if (Interlocked.Increment(ref _references) <= 1)
            throw new ObjectDisposedException(nameof(Storage), "a view was taken of a tensor whose memory was already released");
    }

    internal void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left == 0) _pool.Return(Pointer, _capacity);
        else if (left < 0) throw new InvalidOperationException("tensor storage released more often than referenced");
    }
}
