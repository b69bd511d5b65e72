using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.Registry;

namespace NativeSeg.Tests.Formats;

public class ConversionTests
{
    /// <summary>BlendMask's lists hold 379, 656 and 351 keys; inference reads all but the semantic head's and the BatchNorm step counters.</summary>
    [Theory]
    [InlineData("blendmask-r50-fpn", 358)]
    [InlineData("blendmask-r101-dcni3-fpn", 635)]
    [InlineData("blendmask-550-r50-fpn", 331)]
    [InlineData("bpr-hr18s", 873)]
    [InlineData("bpr-hr48", 1839)]
    public void EmbeddedKeyListsParse(string name, int count)
    {
        var arch = Architectures.Find(name);
        Assert.Equal(count, arch.ExpectedKeys.Count);
        Assert.All(arch.ExpectedKeys.Values, shape => Assert.All(shape, d => Assert.True(d > 0)));
    }

    [Fact]
    public void OldBlendMaskCenternessKeysAreRenamed()
    {
        var arch = Architectures.Find("blendmask-r50-fpn");
        Assert.Equal("proposal_generator.fcos_head.ctrness.weight", arch.MapKey("proposal_generator.fcos_head.centerness.weight"));
        Assert.Contains("proposal_generator.fcos_head.ctrness.weight", arch.ExpectedKeys.Keys);
        Assert.Null(arch.MapKey("basis_module.seg_head.6.weight"));
        Assert.Null(arch.MapKey("basis_module.refine.0.1.num_batches_tracked"));
    }

    /// <summary>
    /// A BlendMask R-101 DCN checkpoint with one deformable block's offset conv missing is recognised as nothing
    /// known, and the error names the missing keys of the architecture it nearly is.
    /// </summary>
    [Fact]
    public void ADcnCheckpointMissingAnOffsetConvNamesTheKey()
    {
        const string lost = "backbone.bottom_up.res4.3.conv2_offset.";
        var arch = Architectures.Find("blendmask-r101-dcni3-fpn");
        var weights = arch.ExpectedKeys.Where(k => !k.Key.StartsWith(lost, StringComparison.Ordinal))
            .ToDictionary(k => k.Key, k => Tensor.Empty(new Shape(k.Value), DType.Float32, NativeSeg.Engine.Devices.Device.Cpu));
        try
        {
            var e = Assert.Throws<ArchitectureMismatchException>(() => WeightsConverter.Recognise("dcn.pth", weights, Architectures.All));
            Assert.Contains("it is nearly blendmask-r101-dcni3-fpn", e.Message);
            Assert.Contains("2 missing:\n    " + lost + "weight\n    " + lost + "bias", e.Message);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
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
        int code = NativeSeg.Cli.Program.Run(["convert", FixturePaths.Fixture("ckpt_zip.pth"), "--out", output, "--arch", "bpr-hr18s"], stdout, stderr);
        Assert.Equal(1, code);
        // The fixture shares three keys with HRNet; two of them (conv1.weight, bn1.running_mean) in other shapes.
        Assert.Contains("870 missing", stderr.ToString());
        Assert.Contains("8 unexpected", stderr.ToString());
        Assert.Contains("2 wrong shape", stderr.ToString());
        Assert.Contains("backbone.conv1.weight: checkpoint [4, 3, 3, 3], model [64, 3, 3, 3]", stderr.ToString());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void TheArchitectureIsRecognisedFromKeysAndShapes()
    {
        using var expected = SafetensorsFile.Open(FixturePaths.Fixture("ckpt_expected.safetensors"));
        var keys = expected.Entries.ToDictionary(e => e.Name, e => e.Shape.ToArray());
        var exact = new TestArchitecture(keys, "exact");
        var oneShapeOff = new TestArchitecture(keys.ToDictionary(k => k.Key, k => k.Key == "backbone.conv1.weight" ? [1, 1, 1, 1] : k.Value), "shape-off");
        var oneKeyShort = new TestArchitecture(keys.Skip(1).ToDictionary(k => k.Key, k => k.Value), "key-short");
        var weights = expected.LoadAll();
        Assert.Same(exact, WeightsConverter.Recognise("in.pth", weights, [oneShapeOff, exact, oneKeyShort]));
        var e = Assert.Throws<ArchitectureMismatchException>(() => WeightsConverter.Recognise("in.pth", weights, [oneShapeOff, oneKeyShort]));
        Assert.Contains("cannot recognise", e.Message);
        Assert.Contains("shape-off", e.Message);
        var twice = Assert.Throws<ArchitectureMismatchException>(() =>
            WeightsConverter.Recognise("in.pth", weights, [exact, new TestArchitecture(keys, "same-again")]));
        Assert.Contains("exact, same-again", twice.Message);
        foreach (var t in weights.Values) t.Dispose();
    }

    [Fact]
    public void CliRecognisesTheArchitectureAndNamesTheOutputAfterTheInput()
    {
        using var dir = new TempFolder();
        string checkpoint = dir.File("maskrcnn.pth");
        File.Copy(FixturePaths.Fixture("maskrcnn_tv_missing_mask_key.pth"), checkpoint);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = NativeSeg.Cli.Program.Run(["convert", checkpoint], stdout, stderr);
        // One mask-head key is missing: no architecture fits exactly; the closest is named, and the key it lacks.
        Assert.Equal(1, code);
        Assert.Contains("cannot recognise", stderr.ToString());
        Assert.Contains($"it is nearly {NativeSeg.Models.MaskRcnn.MaskRcnnArchitectures.Torchvision}", stderr.ToString());
        Assert.Contains("1 missing:\n    roi_heads.mask_predictor.", stderr.ToString());
        Assert.False(File.Exists(dir.File("maskrcnn.safetensors")));
    }

    private sealed class TestArchitecture(Dictionary<string, int[]> keys, string name = "test") : IArchitecture
    {
        public string Name => name;

        public IReadOnlyDictionary<string, int[]> ExpectedKeys => keys;

        public string ConfigJson => "{}";

        public string? MapKey(string checkpointKey) => checkpointKey;
    }
}
