using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.Detection;

/// <summary>The device pipeline's per-shape cache: made once per shape, the least recently used entry disposed when full.</summary>
public class DeviceShapeCacheTests
{
    [Fact]
    public void KeepsTheMostRecentShapesAndDisposesTheEvictedOne()
    {
        var made = new List<Entry>();
        Entry Make(string key)
        {
            var entry = new Entry(key);
            made.Add(entry);
            return entry;
        }
        var cache = new DeviceShapeCache<Entry>(capacity: 2);
        var a = cache.Get("a", () => Make("a"));
        cache.Get("b", () => Make("b"));
        Assert.Same(a, cache.Get("a", () => Make("a again")));
        cache.Get("c", () => Make("c"));

        Assert.Equal(["a", "b", "c"], made.Select(e => e.Key));
        Assert.Equal([false, true, false], made.Select(e => e.Disposed));
        Assert.Equal(2, cache.Count);
        cache.Dispose();
        Assert.All(made, e => Assert.True(e.Disposed));
    }

    [Fact]
    public void ACacheWithoutRoomIsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceShapeCache<Entry>(0));
        Assert.Contains("at least one shape", e.Message);
    }

    private sealed class Entry(string key) : IDisposable
    {
        public string Key { get; } = key;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
