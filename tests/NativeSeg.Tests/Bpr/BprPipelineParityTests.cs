using System.Security.Cryptography;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoundaryPatches;
using NativeSeg.Models.Bpr;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;

namespace NativeSeg.Tests.Bpr;

/// <summary>
/// The whole refinement (patches, network, reassembly) of coarse masks on a real COCO image against the torch
/// reimplementation of BPR (tests/reference/make_bpr_fixtures.py, hashed hr18s weights conditioned so that the
/// output is decided far from 0.5 almost everywhere), and the same check failing against the reference with one
/// upstream detail broken on purpose. Reads the image from ../shared/data (skipped when absent); about 20 s.
/// </summary>
public class BprPipelineParityTests
{
    private const double MinAgreement = 0.99;

    [Fact]
    public void RefinementMatchesTheReference()
    {
        var run = Run();
        if (run is null) return;
        var failures = Compare(run, "refined", "patches");
        Assert.True(failures.Count == 0, string.Join("; ", failures));
    }

    /// <summary>The reference with equal boundary scores taken column-major in the patch NMS instead of row-major.</summary>
    [Fact]
    public void TheCheckFailsAgainstAReferenceWithBrokenTieOrder()
    {
        var run = Run();
        if (run is null) return;
        var failures = Compare(run, "broken_ties", "broken_ties.patches");
        Assert.True(failures.Count > 0, "the parity check passed against the reference with broken tie order, so it cannot tell the detail apart");
    }

    private sealed record Outcome(SafetensorsFile Fixture, byte[][] Coarse, byte[][] Refined, int[] Patches, int Height, int Width);

    private static readonly Lazy<Outcome?> Cached = new(Refine);

    private static Outcome? Run() => Cached.Value;

    private static Outcome? Refine()
    {
        var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_pipeline.safetensors"));
        string? file = SharedData.File(fixture.Metadata["image"]);
        if (file is null) return null;
        var image = ImageFile.Read(file).ToRgb();
        Assert.True(fixture.Metadata["image.sha256"] == Convert.ToHexStringLower(SHA256.HashData(image.Pixels)),
            $"{file} does not decode to the pixels the reference ran on");
        int h = image.Height, w = image.Width;
        var coarse = RleFixture.Load(fixture, "coarse", h, w).Select(r => r.ToRowMajor()).ToArray();
        using var network = BprFixture.Network(fixture.Metadata, compiled: true);
        using var pixels = image.ToTensor();
        using var masks = Tensor.FromArray(coarse.SelectMany(m => m).ToArray(), coarse.Length, h, w);
        var refiner = new BoundaryRefiner(network);
        var (refined, _) = refiner.Refine(pixels, masks);
        using (refined)
        {
            var flat = refined.AsSpan<byte>().ToArray();
            var perInstance = Enumerable.Range(0, coarse.Length).Select(i => flat.AsSpan(i * h * w, h * w).ToArray()).ToArray();
            using var proposals = BoundaryPatches.Propose(masks, network.Config.PatchSize, network.Config.IouThreshold);
            return new Outcome(fixture, coarse, perInstance, proposals.ToArray(), h, w);
        }
    }

    /// <summary>What keeps our refinement from counting as the reference's: a different patch set, a changed pixel
    /// outside every patch, or agreement below 99% on the pixels the reference changed.</summary>
    private static List<string> Compare(Outcome run, string refinedKey, string patchesKey)
    {
        var failures = new List<string>();
        using var expectedPatches = run.Fixture.Load(patchesKey);
        if (!expectedPatches.AsSpan<int>().SequenceEqual(run.Patches))
            failures.Add($"the kept patches differ from the reference's ({run.Patches.Length / 3} vs {expectedPatches.Shape[0]})");
        var reference = RleFixture.Load(run.Fixture, refinedKey, run.Height, run.Width).Select(r => r.ToRowMajor()).ToArray();
        long changed = 0, agree = 0, outsideChanged = 0;
        for (int i = 0; i < run.Coarse.Length; i++)
        {
            var covered = Covered(run.Patches, i, run.Height, run.Width);
            for (int p = 0; p < covered.Length; p++)
            {
                if (!covered[p] && run.Refined[i][p] != run.Coarse[i][p]) outsideChanged++;
                if (reference[i][p] == run.Coarse[i][p]) continue;
                changed++;
                if (run.Refined[i][p] == reference[i][p]) agree++;
            }
        }
        if (outsideChanged > 0) failures.Add($"{outsideChanged} pixels outside every patch differ from the coarse mask");
        if (changed == 0) failures.Add("the reference changed no pixel");
        else if (agree < MinAgreement * changed) failures.Add($"only {agree} of the {changed} pixels the reference changed agree ({(double)agree / changed:P2})");
        return failures;
    }

    private static bool[] Covered(int[] patches, int instance, int h, int w)
    {
        var covered = new bool[h * w];
        for (int k = 0; k < patches.Length / 3; k++)
        {
            if (patches[3 * k] != instance) continue;
            for (int y = patches[3 * k + 2]; y < patches[3 * k + 2] + BprConfig.DefaultPatchSize; y++)
                for (int x = patches[3 * k + 1]; x < patches[3 * k + 1] + BprConfig.DefaultPatchSize; x++) covered[y * w + x] = true;
        }
        return covered;
    }
}
