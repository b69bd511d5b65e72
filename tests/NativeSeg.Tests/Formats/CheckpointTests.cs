using System.Text;
using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Checkpoints;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests.Formats;

public class CheckpointTests
{
    private const string Pwned = "/tmp/nativeseg-checkpoint-pwned";

    [Theory]
    [InlineData("ckpt_zip.pth", "torch zip")]
    [InlineData("ckpt_module.pth", "torch zip")]
    [InlineData("ckpt_mmcv.pth", "mmcv")]
    public void TorchCheckpointsLoadToTheSavedValues(string file, string format)
    {
        using var state = CheckpointReader.Load(FixturePaths.Fixture(file));
        Assert.Equal(format, state.Format);
        AssertMatches(state, "ckpt_expected.safetensors");
        Assert.Equal(0, state["backbone.bn1.num_batches_tracked"].Rank);
        Assert.Equal(new Shape(4, 3), state["head.transposed"].Shape);
    }

    [Theory]
    [InlineData("ckpt_d2_p2.pkl")]
    [InlineData("ckpt_d2_p4.pkl")]
    [InlineData("ckpt_d2_p5.pkl")]
    public void Detectron2PicklesOfNumpyArraysLoad(string file)
    {
        using var state = CheckpointReader.Load(FixturePaths.Fixture(file));
        Assert.Equal("detectron2 pickle", state.Format);
        AssertMatches(state, "ckpt_pkl_expected.safetensors");
        Assert.Equal(DType.Float32, state["head.double"].DType);
        Assert.Equal(DType.UInt8, state["head.flag"].DType);
    }

    [Theory]
    [InlineData("evil_zip.pth", "posix.system")]
    [InlineData("evil_nested.pkl", "posix.system")]
    [InlineData("evil_eval.pkl", "builtins.eval")]
    public void MaliciousPicklesAreRefusedWithoutSideEffects(string file, string global)
    {
        File.Delete(Pwned);
        string path = FixturePaths.Fixture(file);
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Load(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains($"global '{global}' is not on the allow-list", e.Message);
        Assert.False(File.Exists(Pwned));
    }

    public static TheoryData<string, byte[], string> BadPickles => new()
    {
        { "os.system", [0x80, 2, .. "cos\nsystem\n"u8, .. "X\x02\0\0\0ls"u8, 0x85, (byte)'R', (byte)'.'], "global 'os.system'" },
        { "length past end", [0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x10, (byte)'.'], "runs past the end" },
        { "unicode length past end", [0x80, 2, (byte)'X', 0xFF, 0xFF, 0xFF, 0x7F, (byte)'.'], "runs past the end" },
        { "mark bomb", [0x80, 2, .. Enumerable.Repeat((byte)'(', 20_000), (byte)'.'], "nested MARKs" },
        { "stack bomb", [0x80, 2, .. Enumerable.Repeat((byte)'N', 1_100_000), (byte)'.'], "values on the stack" },
        { "memo bomb", MemoBomb(), "memo entries" },
        { "bad memo get", [0x80, 2, (byte)'h', 7, (byte)'.'], "never stored" },
        { "stack underflow", [0x80, 2, (byte)'0', (byte)'.'], "underflow" },
        { "truncated", [0x80, 2, (byte)'}', (byte)'X', 3, 0, 0], "truncated" },
        { "object construction", [0x80, 2, (byte)'(', (byte)'o', (byte)'.'], "not allowed" },
        { "calling a storage", [0x80, 2, .. "ctorch\nFloatStorage\n"u8, (byte)')', (byte)'R', (byte)'.'], "calling torch.FloatStorage is not allowed" },
        { "not a dict", [0x80, 2, (byte)'K', 5, (byte)'.'], "not a dict" },
        { "unhashable key", [0x80, 2, (byte)'}', (byte)']', (byte)'K', 1, (byte)'s', (byte)'.'], "cannot be a dict key" },
        { "legacy torch", [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e], "torch>=1.6" },
        { "empty", [], "empty" },
    };

    [Theory]
    [MemberData(nameof(BadPickles))]
    public void HostileOrBrokenPicklesAreClearErrors(string label, byte[] bytes, string expected)
    {
        using var dir = new TempFolder();
        string path = dir.File(label.Replace(' ', '_') + ".pkl");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Load(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MutatedCheckpointsFailOnlyWithFormatErrors()
    {
        using var dir = new TempFolder();
        var rng = new Random(1234);
        string[] sources = ["ckpt_zip.pth", "ckpt_mmcv.pth", "ckpt_d2_p2.pkl", "ckpt_d2_p4.pkl", "ckpt_d2_p5.pkl"];
        var originals = sources.Select(s => File.ReadAllBytes(FixturePaths.Fixture(s))).ToArray();
        string path = dir.File("mutant");
        int loaded = 0, refused = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 2000 && clock.Elapsed < TimeSpan.FromSeconds(10); i++)
        {
            byte[] bytes = Mutate(originals[i % originals.Length], rng);
            File.WriteAllBytes(path, bytes);
            try
            {
                using var state = CheckpointReader.Load(path);
                loaded++;
            }
            catch (CheckpointFormatException)
            {
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} of {sources[i % sources.Length]} escaped as {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        Assert.True(refused > 100, $"only {refused} of {loaded + refused} mutants were refused; the mutations do not bite");
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        byte[] b = (byte[])original.Clone();
        switch (rng.Next(4))
        {
            case 0:
                for (int k = rng.Next(1, 8); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                return b;
            case 1:
                return b[..rng.Next(b.Length)];
            case 2:
                int at = rng.Next(b.Length - 4);
                // Large values in a length or offset field are what bounds checks have to survive.
                BitConverter.GetBytes(rng.Next(2) == 0 ? uint.MaxValue - (uint)rng.Next(16) : (uint)rng.Next(1 << 20)).CopyTo(b, at);
                return b;
            default:
                int from = rng.Next(b.Length), length = rng.Next(1, 64);
                return [.. b[..from], .. Enumerable.Range(0, length).Select(_ => (byte)rng.Next(256)), .. b[from..]];
        }
    }

    private static byte[] MemoBomb()
    {
        var bytes = new List<byte> { 0x80, 4, (byte)'N' };
        for (int i = 0; i < 1_000_001; i++) bytes.Add(0x94);
        bytes.Add((byte)'.');
        return [.. bytes];
    }

    private static void AssertMatches(StateDict state, string expectedFile)
    {
        using var expected = SafetensorsFile.Open(FixturePaths.Fixture(expectedFile));
        Assert.Equal(expected.Names.Order(), state.Keys.Order());
        foreach (string name in expected.Names)
        {
            var actual = state[name];
            using var want = expected.Load(name);
            Assert.Equal(want.Shape, actual.Shape);
            Assert.Equal(want.DType, actual.DType);
            Assert.True(Bytes(want).SequenceEqual(Bytes(actual)), $"{name} differs");
        }
    }

    private static unsafe ReadOnlySpan<byte> Bytes(Tensor t) => new((void*)t.Pointer, (int)t.Bytes);
}
