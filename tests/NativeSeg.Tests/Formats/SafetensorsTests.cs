using System.Text;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests.Formats;

public class SafetensorsTests
{
    [Fact]
    public void ReadsTheNumpyWrittenFixture()
    {
        using var f = SafetensorsFile.Open(FixturePaths.Fixture("safetensors_basic.safetensors"));
        Assert.Equal(["conv.weight", "count", "empty", "half", "ids", "index", "mask"], f.Names);
        Assert.Equal("test", f.Metadata["architecture"]);
        Assert.Equal("{\"a\": 1}", f.Metadata["config"]);

        using (var w = f.Load("conv.weight"))
        {
            Assert.Equal(new Shape(2, 3, 2, 2), w.Shape);
            Assert.Equal(Enumerable.Range(0, 24).Select(i => i * 0.25f - 1.5f), w.AsSpan<float>().ToArray());
        }
        using (var h = f.Load("half")) Assert.Equal([(Half)0.5f, (Half)(-2f), Half.MaxValue], h.AsSpan<Half>().ToArray());
        using (var ids = f.Load("ids")) Assert.Equal([1L, -2, 3, 1L << 40], ids.AsSpan<long>().ToArray());
        using (var count = f.Load("count"))
        {
            Assert.Equal(0, count.Rank);
            Assert.Equal(7L, count.AsSpan<long>()[0]);
        }
        using (var mask = f.Load("mask")) Assert.Equal([0, 255, 17], mask.AsSpan<byte>().ToArray());
        using (var index = f.Load("index")) Assert.Equal([-5, 9], index.AsSpan<int>().ToArray());
        using (var empty = f.Load("empty")) Assert.Equal(new Shape(0, 4), empty.Shape);
        Assert.Equal(3, f.GetBytes("ids")[16]);
    }

    [Fact]
    public void WriteThenReadIsExact()
    {
        using var dir = new TempFolder();
        string path = dir.File("out.safetensors");
        using var a = Tensor.FromArray([1.5f, float.NaN, -0f, float.Epsilon, 3, 4], 2, 3);
        using var b = Tensor.FromArray(new[] { (Half)1, (Half)(-0.125f) }, 2);
        using var c = Tensor.FromArray(new[] { 7L }, []);
        Assert.Equal(0, c.Rank);
        SafetensorsWriter.Write(path, [new("z.first", a), new("a.second", b), new("c", c)], new Dictionary<string, string> { ["k"] = "v" });

        Assert.Equal(0, BitConverter.ToInt64(File.ReadAllBytes(path), 0) % 8);
        using var f = SafetensorsFile.Open(path);
        Assert.Equal(["z.first", "a.second", "c"], f.Names);
        Assert.Equal("v", f.Metadata["k"]);
        using var a2 = f.Load("z.first");
        Assert.Equal(a.Shape, a2.Shape);
        Assert.True(BitsEqual(a, a2));
        using var b2 = f.Load("a.second");
        Assert.Equal(b.AsSpan<Half>().ToArray(), b2.AsSpan<Half>().ToArray());
        using var c2 = f.Load("c");
        Assert.Equal(0, c2.Rank);
        Assert.Equal(7L, c2.AsSpan<long>()[0]);
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Bf16IsWidenedToFloat32AndOtherDTypesAreRefusedByName()
    {
        using var dir = new TempFolder();
        string path = dir.File("bf16.safetensors");
        // 1.0 = 0x3F80, -2.5 = 0xC020 in bfloat16; F64 is valid in the format but not loadable.
        byte[] data = [0x80, 0x3F, 0x20, 0xC0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F];
        File.WriteAllBytes(path, Build("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]}}", data));
        using var f = SafetensorsFile.Open(path);
        using var w = f.Load("w");
        Assert.Equal(DType.Float32, w.DType);
        Assert.Equal([1f, -2.5f], w.AsSpan<float>().ToArray());
        var e = Assert.Throws<FileFormatException>(() => f.Load("d"));
        Assert.Contains(path, e.Message);
        Assert.Contains("F64", e.Message);
        Assert.Throws<KeyNotFoundException>(() => f.Load("missing"));
    }

    /// <summary>A model's weights are read once, F16 widened to float32 in the same pass, into tensors made for them.</summary>
    [Fact]
    public void ReadIntoWidensHalfAndRefusesAnotherShapeOrDType()
    {
        using var dir = new TempFolder();
        string path = dir.File("half.safetensors");
        Half[] values = [(Half)0.5f, (Half)(-2f), Half.MaxValue, Half.Epsilon, Half.NaN, (Half)(-0f)];
        using var h = Tensor.FromArray(values, 2, 3);
        using var f32 = Tensor.FromArray([1f, 2f], 2);
        SafetensorsWriter.Write(path, [new("h", h), new("f", f32)]);
        using var f = SafetensorsFile.Open(path);
        Assert.Equal(DType.Float32, f.Float32ReadType("h"));
        Assert.Equal(DType.Float32, f.Float32ReadType("f"));
        using var widened = Tensor.Empty(new Shape(2, 3), DType.Float32, Device.Cpu);
        f.ReadInto("h", widened);
        Assert.Equal(values.Select(v => (float)v), widened.AsSpan<float>().ToArray());
        using var asStored = Tensor.Empty(new Shape(2, 3), DType.Float16, Device.Cpu);
        f.ReadInto("h", asStored);
        Assert.Equal(values, asStored.AsSpan<Half>().ToArray());

        using var wrongShape = Tensor.Empty(new Shape(3, 2), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => f.ReadInto("h", wrongShape));
        Assert.Contains("'h' [2, 3]", e.Message);
        using var narrowed = Tensor.Empty(new Shape(2), DType.Float16, Device.Cpu);
        e = Assert.Throws<ArgumentException>(() => f.ReadInto("f", narrowed));
        Assert.Contains("F32", e.Message);
    }

    public static TheoryData<string, byte[], string> Invalid => new()
    {
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], "must begin at 0" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12], "gap" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], "overlaps" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8], "needs 12 bytes" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8], "4 trailing bytes" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4], "truncated" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], "twice" },
        { "{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "unknown dtype" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4], "non-negative" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4], "lacks data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", new byte[4], "overflows" },
        { "{\"__metadata__\":{\"k\":1}}", [], "not a string" },
        { "{\"a\":", [], "not valid JSON" },
        { "[1,2]", [], "not a JSON object" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidHeadersAreRefusedNamingTheFile(string header, byte[] data, string expected)
    {
        using var dir = new TempFolder();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, Build(header, data));
        var e = Assert.Throws<FileFormatException>(() => SafetensorsFile.Open(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void BadHeaderSizesAreRefused()
    {
        using var dir = new TempFolder();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<FileFormatException>(() => SafetensorsFile.Open(path)).Message);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(200L), .. "{}"u8]);
        Assert.Contains("runs past the end", Assert.Throws<FileFormatException>(() => SafetensorsFile.Open(path)).Message);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(long.MaxValue), .. "{}"u8]);
        Assert.Contains("limit", Assert.Throws<FileFormatException>(() => SafetensorsFile.Open(path)).Message);
    }

    [Fact]
    public void AFailedWriteLeavesNothingBehind()
    {
        using var dir = new TempFolder();
        string path = dir.File("out.safetensors");
        using var a = Tensor.FromArray([1f], 1);
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("a", a), new("a", a)]));
        var disposed = Tensor.FromArray([1f], 1);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SafetensorsWriter.Write(path, [new("a", a), new("b", disposed)]));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    private static bool BitsEqual(Tensor a, Tensor b) =>
        a.AsSpan<float>().ToArray().Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.AsSpan<float>().ToArray().Select(BitConverter.SingleToInt32Bits));

    private static byte[] Build(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((long)json.Length), .. json, .. data];
    }
}
