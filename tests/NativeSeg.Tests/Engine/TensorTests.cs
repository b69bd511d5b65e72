using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Memory;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests.Engine;

public class TensorTests
{
    [Fact]
    public void ViewsShareMemoryAndKeepItAlive()
    {
        var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var rows = t.Slice(1, 1);
        var flat = rows.Reshape(-1);
        t.Dispose();
        Assert.Equal(new Shape(12), flat.Shape);
        Assert.Equal(12f, flat.AsSpan<float>()[0]);
        flat.AsSpan<float>()[0] = -1;
        Assert.Equal(-1f, rows.AsSpan<float>()[0]);
        rows.Dispose();
        flat.Dispose();
    }

    [Fact]
    public void BadReshapeAndSliceNameTheShapes()
    {
        using var t = Tensor.Zeros(new Shape(2, 3), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4, 2]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(1, 2));
    }

    [Fact]
    public void ReinterpretReadsTheSameBytesAsAnotherDType()
    {
        using var longs = Tensor.FromArray(new long[] { 3, -1 }, 2);
        using var words = longs.Reinterpret(DType.Int32);
        Assert.Equal([3, 0, -1, -1], words.AsSpan<int>().ToArray());
        using var floats = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3);
        using var halves = floats.Slice(1, 2).Reinterpret(DType.Int32);
        Assert.Equal([BitConverter.SingleToInt32Bits(2f), BitConverter.SingleToInt32Bits(3f)], halves.AsSpan<int>().ToArray());
        var e = Assert.Throws<ArgumentException>(() => floats.Reinterpret(DType.Int64));
        Assert.Contains("12 bytes", e.Message);
    }

    [Fact]
    public void TypedAccessChecksTheDType()
    {
        using var t = Tensor.Zeros(new Shape(4), DType.Int64, Device.Cpu);
        Assert.Equal(4, t.AsSpan<long>().Length);
        Assert.Throws<InvalidOperationException>(() => t.AsSpan<float>());
    }

    [Fact]
    public void DisposedTensorMemoryIsReused()
    {
        var pool = new CachingPool(_ => (nint)0x1000, _ => { }, 1 << 20);
        nint a = pool.Rent(1000, out long capA);
        pool.Return(a, capA);
        Assert.Equal(capA, pool.BytesCached);
        nint b = pool.Rent(900, out long capB);
        Assert.Equal(a, b);
        Assert.Equal(capA, capB);
        Assert.Equal(0, pool.BytesCached);
    }

    [Theory]
    [InlineData(1, 256)]
    [InlineData(257, 512)]
    [InlineData(1000, 1024)]
    [InlineData(1025, 1280)]
    [InlineData(5000, 5120)]
    public void SizeClassesWasteAtMostAQuarter(long request, long expected)
    {
        Assert.Equal(expected, SizeClasses.RoundUp(request));
    }
}
