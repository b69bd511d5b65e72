using NativeSeg.Cli;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

public class ConvertCommandTests
{
    [Fact]
    public void ACheckpointMissingAMaskHeadKeyFailsNamingTheKey()
    {
        using var temp = new TempFolder();
        string output = temp.File("model.safetensors");
        var stdout = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["convert", FixturePaths.Fixture("maskrcnn_tv_missing_mask_key.pth"), "--out", output, "--arch", MaskRcnnArchitectures.Torchvision],
            stdout, error);
        Assert.Equal(1, code);
        // Every other key and shape of the real torchvision checkpoint is present, so this is the whole complaint.
        Assert.Contains("1 missing:\n    roi_heads.mask_predictor.mask_fcn_logits.weight", error.ToString());
        Assert.DoesNotContain("unexpected", error.ToString());
        Assert.DoesNotContain("wrong shape", error.ToString());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void ASafetensorsFileIsRecognisedFromItsBytesAndRefused()
    {
        using var temp = new TempFolder();
        // A .pth name, so only the bytes can tell: the 8-byte header size, then the JSON header.
        string input = temp.File("model.pth");
        byte[] header = "{\"__metadata__\":{\"architecture\":\"some_arch\"}}"u8.ToArray();
        File.WriteAllBytes(input, [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        string output = temp.File("out.safetensors");

        var (code, _, error) = CliRun.Run("convert", input, "--out", output);

        Assert.Equal(2, code);
        Assert.StartsWith($"error: {input} is already a safetensors file (some_arch)", error);
        Assert.DoesNotContain("pickle", error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void ASafetensorsFileWithoutMetadataIsRefusedWithoutAnArchitecture()
    {
        string input = FixturePaths.Fixture("ckpt_expected.safetensors");
        var (code, _, error) = CliRun.Run("convert", input);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {input} is already a safetensors file;", error);
    }
}
