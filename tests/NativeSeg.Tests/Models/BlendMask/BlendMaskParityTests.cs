using System.Collections.Concurrent;
using System.Security.Cryptography;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Sdk;

namespace NativeSeg.Tests.Models.BlendMask;

/// <summary>
/// Whole-model parity, image to pasted masks, with the PyTorch BlendMask reference (tests/reference/blendmask_reference.py;
/// fixtures from make_blendmask_fixtures.py): each released config's model, its hashed weights under the released key
/// names written as a converted file with the config's defaults, segments a real 640×480 COCO image from ../shared/data
/// at the config's test resize, and must match the reference's top 50 by the criterion. The reference broken on
/// purpose (softmax over the wrong axis, the attention resize with align_corners=True, the DCN mask ignored) must fail
/// the same comparison, so the fixture can tell each of those mistakes. Each config's model runs once for all its tests.
/// </summary>
[Trait("Category", "BlendMaskParity")]
public class BlendMaskParityTests(BlendMaskParityTests.Runs runs) : IClassFixture<BlendMaskParityTests.Runs>
{
    [Theory]
    [InlineData("R_50_1x")]
    [InlineData("R_101_dcni3_5x")]
    [InlineData("550_R_50_3x")]
    public void ImageToPastedMasksMatchesTheReference(string config)
    {
        var run = runs.Get(config);
        if (run is null) return;
        var reference = run.Reference("");
        Assert.Equal(50, reference.Count);
        DetectionMatching.AssertParity(reference, run.Ours, run.Width, run.Height, $"BlendMask {config} on {run.ImagePath}");
    }

    [Theory]
    [InlineData("R_50_1x", "softmax_axis")]
    [InlineData("R_50_1x", "align_corners")]
    [InlineData("R_101_dcni3_5x", "softmax_axis")]
    [InlineData("R_101_dcni3_5x", "align_corners")]
    [InlineData("R_101_dcni3_5x", "dcn_mask_ignored")]
    [InlineData("550_R_50_3x", "softmax_axis")]
    [InlineData("550_R_50_3x", "align_corners")]
    public void TheReferenceBrokenOnPurposeFailsTheComparison(string config, string broken)
    {
        var run = runs.Get(config);
        if (run is null) return;
        // Only a model that matches the true reference shows that the criterion separates the two.
        DetectionMatching.AssertParity(run.Reference(""), run.Ours, run.Width, run.Height, $"BlendMask {config}");
        var wrong = run.Reference(broken + ".");
        Assert.Equal(50, wrong.Count);
        Assert.ThrowsAny<XunitException>(() =>
            DetectionMatching.AssertParity(wrong, run.Ours, run.Width, run.Height, $"BlendMask {config} broken by {broken}"));
    }

    /// <summary>One config's fixture, the image's size and what the model found in it.</summary>
    public sealed record Run(string Fixture, string ImagePath, int Width, int Height, IReadOnlyList<SegmentedInstance> Ours)
    {
        /// <summary>The fixture's detections stored under <paramref name="prefix"/> ("" for the true reference).</summary>
        internal List<ReferenceDetection> Reference(string prefix)
        {
            using var fixture = SafetensorsFile.Open(Fixture);
            return TorchvisionImageParityTests.RleReference(fixture, prefix, Height, Width);
        }
    }

    /// <summary>Runs each config's model at most once per test run; null when ../shared/data is absent.</summary>
    public sealed class Runs
    {
        private readonly ConcurrentDictionary<string, Lazy<Run?>> _runs = new();

        public Run? Get(string config) => _runs.GetOrAdd(config, c => new Lazy<Run?>(() => Segment(c))).Value;

        private static Run? Segment(string config)
        {
            string path = FixturePaths.Fixture($"blendmask_{config}.safetensors");
            using var fixture = SafetensorsFile.Open(path);
            var meta = fixture.Metadata;
            string? file = SharedData.File(meta["image"]);
            if (file is null) return null;
            var image = ImageFile.Read(file);
            Assert.True(meta["image.sha256"] == Convert.ToHexStringLower(SHA256.HashData(image.Pixels)),
                $"{file} does not decode to the pixels the reference ran on");

            using var temp = new TempFolder();
            string model = temp.File("blendmask.safetensors");
            WriteModel(model, meta);
            using var segmenter = InstanceSegmenters.Open(model, new SegmenterOptions(Device.Cpu));
            Assert.Equal(meta["architecture"], segmenter.Architecture);
            return new Run(path, file, image.Width, image.Height, segmenter.Segment([image])[0]);
        }

        /// <summary>
        /// The fixture's model as a converted file: every tensor of the released layout (offset + hashed uniform) and
        /// an empty config, so the model runs with the released config's defaults, as the reference did.
        /// </summary>
        private static void WriteModel(string path, IReadOnlyDictionary<string, string> meta)
        {
            var weights = HashedWeights.LoadAllWithOffsets(meta, "backbone.", "proposal_generator.", "top_layer.", "basis_module.");
            try
            {
                SafetensorsWriter.Write(path, weights.OrderBy(p => p.Key, StringComparer.Ordinal), new Dictionary<string, string>
                {
                    ["architecture"] = meta["architecture"],
                    ["config"] = meta["config"],
                });
            }
            finally
            {
                foreach (var t in weights.Values) t.Dispose();
            }
        }
    }
}
