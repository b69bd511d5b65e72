using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoundaryPatches;
using NativeSeg.Models.Bpr;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;
using NativeSeg.Tests.Models;

namespace NativeSeg.Tests.Bpr;

/// <summary>
/// Patch extraction and reassembly against tests/reference/bpr_reference.py (numpy/torch, written from BPR's
/// split_patches.py and merge_patches.py) on seeded ellipse masks, one empty and one full, over a random image.
/// </summary>
public class BoundaryPatchesFixtureTests
{
    private const int PatchSize = 64;

    [Fact]
    public void BoundaryLevelsAreUpstreamsScores()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_patches.safetensors"));
        using var masks = fixture.Load("masks");
        using var expected = fixture.Load("levels");
        using var levels = BoundaryPatches.Levels(masks);
        Assert.Equal(expected.AsSpan<byte>().ToArray(), levels.AsSpan<byte>().ToArray());
    }

    [Theory]
    [InlineData("0.25", 0.25f)]
    [InlineData("0.55", 0.55f)]
    public void KeptPatchesMatchUpstreamNms(string name, float threshold)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_patches.safetensors"));
        using var masks = fixture.Load("masks");
        using var expected = fixture.Load("patches_" + name);
        using var proposals = BoundaryPatches.Propose(masks, PatchSize, threshold);
        Assert.Equal(expected.AsSpan<int>().ToArray(), proposals.ToArray());
        // Mask 0 is empty: no boundary, no patches. Mask 1 is full, and upstream's zero padding gives it a boundary
        // along the image border, so it does get patches (refine passes full masks through before extraction).
        Assert.Equal(0, proposals.First[1]);
        Assert.True(proposals.First[2] > 0);
    }

    [Fact]
    public void NetworkInputMatchesUpstreamsResizeAndNormalisation()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_patches.safetensors"));
        using var masks = fixture.Load("masks");
        using var image = fixture.Load("image");
        using var expected = fixture.Load("input");
        using var proposals = BoundaryPatches.Propose(masks, PatchSize, 0.25f);
        int patch = int.Parse(fixture.Metadata["input.patch"], CultureInfo.InvariantCulture);
        using var input = BoundaryPatches.Crop(image, masks, proposals, 128, BprConfig.Normalization, patch, 1);
        ConvAssert.Close(expected, input, 1e-6);
    }

    [Fact]
    public void ReassemblyAveragesProbabilitiesAndKeepsTheCoarseMaskOutsidePatches()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_patches.safetensors"));
        using var masks = fixture.Load("masks");
        using var expected = fixture.Load("refined");
        using var proposals = BoundaryPatches.Propose(masks, PatchSize, 0.25f);
        var values = HashedWeights.Uniform("patch_logits", (long)proposals.Count * 2 * PatchSize * PatchSize, 3.0);
        using var logits = Tensor.FromArray(values, proposals.Count, 2, PatchSize, PatchSize);
        using var refined = BoundaryPatches.Reassemble(logits, proposals, masks);
        Assert.Equal(expected.AsSpan<byte>().ToArray(), refined.AsSpan<byte>().ToArray());
    }

    [Fact]
    public void AnImageNoLargerThanAPatchHasNoPatches()
    {
        using var masks = Tensor.FromArray(BoundaryPatchesTestMasks.Disc(64, 200), 1, 64, 200);
        using var proposals = BoundaryPatches.Propose(masks, PatchSize, 0.25f);
        Assert.Equal(0, proposals.Count);
        using var logits = Tensor.Empty(Device.Cpu, DType.Float32, 0, 2, PatchSize, PatchSize);
        using var refined = BoundaryPatches.Reassemble(logits, proposals, masks);
        Assert.Equal(masks.AsSpan<byte>().ToArray().Select(v => (byte)(v != 0 ? 1 : 0)), refined.AsSpan<byte>().ToArray());
    }

    [Fact]
    public void BadArgumentsNameTheProblem()
    {
        using var masks = Tensor.FromArray(BoundaryPatchesTestMasks.Disc(100, 100), 1, 100, 100);
        Assert.Contains("even", Assert.ThrowsAny<Exception>(() => BoundaryPatches.Propose(masks, 63, 0.25f)).Message);
        Assert.Contains("[0, 1]", Assert.ThrowsAny<Exception>(() => BoundaryPatches.Propose(masks, 64, 1.5f)).Message);
        using var image = Tensor.Empty(Device.Cpu, DType.UInt8, 90, 100, 3);
        using var proposals = BoundaryPatches.Propose(masks, 64, 0.25f);
        Assert.Contains("image", Assert.ThrowsAny<Exception>(() => BoundaryPatches.Crop(image, masks, proposals, 128, BprConfig.Normalization)).Message);
    }
}

/// <summary>Simple masks for argument tests.</summary>
internal static class BoundaryPatchesTestMasks
{
    /// <summary>A centred disc of radius min(h, w)/3, as uint8 [h·w].</summary>
    public static byte[] Disc(int h, int w)
    {
        var mask = new byte[h * w];
        double r = Math.Min(h, w) / 3.0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                mask[y * w + x] = (byte)((x - w / 2.0) * (x - w / 2.0) + (y - h / 2.0) * (y - h / 2.0) <= r * r ? 1 : 0);
        return mask;
    }
}
