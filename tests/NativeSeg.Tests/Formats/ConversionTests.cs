using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Conversion;

namespace NativeSeg.Tests.Formats;

public class ConversionTests
{
    [Theory]
    [InlineData("blendmask_R_50_1x", 379)]
    [InlineData("blendmask_R_101_dcni3_5x", 656)]
    [InlineData("blendmask_550_R_50_3x", 351)]
    [InlineData("bpr_hr18s", 873)]
    [InlineData("bpr_hr48", 1839)]
    public void EmbeddedKeyListsParse(string name, int count)
    {
        var arch = Architectures.Find(name);
        Assert.Equal(count, arch.ExpectedKeys.Count);
        Assert.All(arch.ExpectedKeys.Values, shape => Assert.All(shape, d => Assert.True(d > 0)));
    }

    [Fact]
    public void OldBlendMaskCenternessKeysAreRenamed()
    {
        var arch = Architectures.Find("blendmask_R_50_1x");
        Assert.Equal("proposal_generator.fcos_head.ctrness.weight", arch.MapKey("proposal_generator.fcos_head.centerness.weight"));
        Assert.Contains("proposal_generator.fcos_head.ctrness.weight", arch.ExpectedKeys.Keys);
    }

    [Fact]
    public void OneErrorListsMissingUnexpectedAndMisshapedKeys()
    {
        var arch = new TestArchitecture(new() { ["a"] = [2], ["b"] = [3], ["c"] = [1] });
        using var a = Tensor.FromArray([1f, 2f], 2);
        using var b = Tensor.FromArray([1f, 2f], 2);
        using var extra = Tensor.FromArray([1f], 1);
        var e = Assert.Throws<ArchitectureMismatchException>(() =>
            WeightsConverter.Check("in.pth", arch, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b, ["extra"] = extra }));
        Assert.Contains("1 missing:\n    c", e.Message);
        Assert.Contains("1 unexpected:\n    extra", e.Message);
        Assert.Contains("b: checkpoint [2], model [3]", e.Message);
    }

    [Fact]
    public void ConvertWritesCheckedHalfPrecisionSafetensors()
    {
        using var dir = new TempFolder();
        using var expected = SafetensorsFile.Open(FixturePaths.Fixture("ckpt_expected.safetensors"));
        var arch = new TestArchitecture(expected.Entries.ToDictionary(e => e.Name, e => e.Shape.ToArray()));
        string output = dir.File("out.safetensors");
        WeightsConverter.Convert(FixturePaths.Fixture("ckpt_module.pth"), output, arch, fp16: true);
        using var converted = SafetensorsFile.Open(output);
        Assert.Equal("test", converted.Metadata["architecture"]);
        Assert.Equal("{}", converted.Metadata["config"]);
        using var weight = converted.Load("backbone.conv1.weight");
        using var want = expected.Load("backbone.conv1.weight");
        Assert.Equal(DType.Float16, weight.DType);
        Assert.Equal(want.AsSpan<float>().ToArray().Select(f => (Half)f), weight.AsSpan<Half>().ToArray());
        using var count = converted.Load("backbone.bn1.num_batches_tracked");
        Assert.Equal(17L, count.AsSpan<long>()[0]);
    }

    [Fact]
    public void CliReportsAMismatchWithoutWritingAFile()
    {
        using var dir = new TempFolder();
        string output = dir.File("out.safetensors");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = NativeSeg.Cli.Program.Run(["convert", FixturePaths.Fixture("ckpt_zip.pth"), "--out", output, "--arch", "bpr_hr18s"], stdout, stderr);
        Assert.Equal(1, code);
        // The fixture shares three keys with HRNet; two of them (conv1.weight, bn1.running_mean) in other shapes.
        Assert.Contains("870 missing", stderr.ToString());
        Assert.Contains("8 unexpected", stderr.ToString());
        Assert.Contains("2 wrong shape", stderr.ToString());
        Assert.Contains("backbone.conv1.weight: checkpoint [4, 3, 3, 3], model [64, 3, 3, 3]", stderr.ToString());
        Assert.False(File.Exists(output));
    }

    private sealed class TestArchitecture(Dictionary<string, int[]> keys) : IArchitecture
    {
        public string Name => "test";

        public IReadOnlyDictionary<string, int[]> ExpectedKeys => keys;

        public string ConfigJson => "{}";

        public string? MapKey(string checkpointKey) => checkpointKey;
    }
}
