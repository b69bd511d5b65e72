namespace NativeSeg.Models.Detection;

/// <summary>
/// Device tensors that depend only on a batch's shape (anchors, level ids), made on the first batch of a shape and
/// reused after, for the <see cref="Capacity"/> most recently used shapes: inputs of many sizes (COCO's, each padded
/// to a multiple of 32) would otherwise keep every shape's anchors on the device. The least recently used entry is
/// disposed when a new shape needs its place.
/// </summary>
public sealed class DeviceShapeCache<TValue>(int capacity) : IDisposable where TValue : IDisposable
{
    // Most recently used first; a handful of entries, so a list scan costs nothing next to a forward pass.
    private readonly LinkedList<(string Key, TValue Value)> _entries = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), "a shape cache needs room for at least one shape");

    public int Count => _entries.Count;

    /// <summary>The value for <paramref name="key"/>, made by <paramref name="make"/> when no entry holds it.</summary>
    public TValue Get(string key, Func<TValue> make)
    {
        for (var node = _entries.First; node is not null; node = node.Next)
        {
            if (node.Value.Key != key) continue;
            _entries.Remove(node);
            _entries.AddFirst(node);
            return node.Value.Value;
        }
        var value = make();
        _entries.AddFirst((key, value));
        if (_entries.Count > Capacity)
        {
            var evicted = _entries.Last!;
            _entries.RemoveLast();
            evicted.Value.Value.Dispose();
        }
        return value;
    }

    public void Dispose()
    {
        foreach (var (_, value) in _entries) value.Dispose();
        _entries.Clear();
    }
}
