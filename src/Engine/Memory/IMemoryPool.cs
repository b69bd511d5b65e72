namespace NativeSeg.Engine.Memory;

/// <summary>
/// Hands out raw blocks of one device's memory and takes them back for reuse. A pool may round a
/// request up; <paramref name="capacity"/> reports what the block really holds so it can be returned
/// to the right size class.
/// </summary>
public interface IMemoryPool
{
    nint Rent(long bytes, out long capacity);

    void Return(nint pointer, long capacity);

    /// <summary>Bytes currently handed out and not yet returned.</summary>
    long BytesInUse { get; }

    /// <summary>Bytes held in the pool's free lists.</summary>
    long BytesCached { get; }

    /// <summary>Gives every cached block back to the system.</summary>
    void Trim();
}
