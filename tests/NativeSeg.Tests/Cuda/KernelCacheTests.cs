using NativeSeg.Engine.Cuda;

namespace NativeSeg.Tests.Cuda;

public sealed class KernelCacheTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void WrittenEntryReadsBackAndLeavesNoTemporaryFile()
    {
        var cache = new KernelCache(Path.Combine(_folder.Path, "nested", "kernels"));
        byte[] payload = [1, 2, 3, 250, 0, 7];
        cache.Write("abc", payload);
        Assert.Equal(payload, cache.TryRead("abc"));
        Assert.Equal([cache.PathFor("abc")], Directory.GetFiles(cache.Directory));
    }

    [Fact]
    public void MissingTruncatedOrForeignFilesAreMisses()
    {
        var cache = new KernelCache(_folder.Path);
        Assert.Null(cache.TryRead("absent"));
        cache.Write("cut", new byte[100]);
        byte[] whole = File.ReadAllBytes(cache.PathFor("cut"));
        File.WriteAllBytes(cache.PathFor("cut"), whole[..^1]);
        Assert.Null(cache.TryRead("cut"));
        File.WriteAllBytes(cache.PathFor("foreign"), new byte[200]);
        Assert.Null(cache.TryRead("foreign"));
    }

    [Fact]
    public void RewriteReplacesAnEntry()
    {
        var cache = new KernelCache(_folder.Path);
        cache.Write("k", [1]);
        cache.Write("k", [2, 2]);
        Assert.Equal([2, 2], cache.TryRead("k"));
    }
}
