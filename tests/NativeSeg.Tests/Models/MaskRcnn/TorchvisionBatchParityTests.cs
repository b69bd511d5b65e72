using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Emulation;
using NativeSeg.Tests.Formats;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Batches of differently shaped images against torchvision 0.14 running the same batch: two images
/// (tests/reference/make_maskrcnn_batch_fixture.py) and four at smaller sizes (make_maskrcnn_batch4_fixture.py).
/// Both sides pad every image to the batch's largest size rounded up to 32, which changes the features near the
/// padded edges, so a batch's detections are the framework's batch ones, not those of each image run alone.
/// </summary>
public class TorchvisionBatchParityTests
{
    public const string TwoImages = "maskrcnn_torchvision_batch.safetensors", FourImages = "maskrcnn_torchvision_batch4.safetensors";

    [Theory]
    [InlineData(TwoImages)]
    [InlineData(FourImages)]
    public void BatchMatchesTorchvisionsBatch(string file)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture(file));
        var keys = Keys(fixture);
        var inputs = keys.Select(key => Pixels(fixture, key)).ToList();
        using var temp = new TempFolder();
        using var model = Model(fixture, temp.File("model.safetensors"), Device.Cpu);
        var ours = model.Segment(inputs);

        for (int n = 0; n < inputs.Count; n++)
        {
            var reference = TorchvisionImageParityTests.RleReference(fixture, keys[n] + ".batch.", inputs[n].Height, inputs[n].Width);
            DetectionMatching.AssertParity(reference, ours[n], inputs[n].Width, inputs[n].Height, $"{keys[n]} in the batch of {inputs.Count}");
        }
    }

    /// <summary>What makes the batch tests mean something: torchvision's own batch differs from its runs of each image alone.</summary>
    [Theory]
    [InlineData(TwoImages)]
    [InlineData(FourImages)]
    public void TorchvisionsBatchDiffersFromEachImageAlone(string file)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture(file));
        foreach (string key in Keys(fixture))
        {
            var image = Pixels(fixture, key);
            var alone = TorchvisionImageParityTests.RleReference(fixture, key + ".alone.", image.Height, image.Width);
            var batch = TorchvisionImageParityTests.RleReference(fixture, key + ".batch.", image.Height, image.Width);
            var outcome = DetectionMatching.Match(alone, AsInstances(batch, image.Height, image.Width), image.Width, image.Height);
            Assert.True(outcome.Matched < 0.95 * outcome.Total, $"{key}: {outcome.Matched} of {outcome.Total} detections alone match the batch's");
        }
    }

    /// <summary>
    /// The fixture's model written to <paramref name="path"/> and loaded with the test-time RPN candidate, proposal and
    /// detection counts the fixture's torchvision model ran with, where it names them.
    /// </summary>
    internal static MaskRcnnModel Model(SafetensorsFile fixture, string path, Device device)
    {
        TorchvisionImageParityTests.WriteModel(path, fixture.Metadata);
        var meta = fixture.Metadata;
        int Count(string key, int otherwise) => meta.TryGetValue(key, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : otherwise;
        return DevicePipelineTests.Load(path, device, heads => heads with
        {
            RpnPreNmsTopK = Count("rpn_pre_nms_top_n_test", heads.RpnPreNmsTopK),
            RpnPostNmsTopK = Count("rpn_post_nms_top_n_test", heads.RpnPostNmsTopK),
            DetectionsPerImage = Count("detections_per_img", heads.DetectionsPerImage),
        });
    }

    /// <summary>The fixture's images, in batch order.</summary>
    internal static string[] Keys(SafetensorsFile fixture) => fixture.Metadata["images"].Split(',');

    internal static Image Pixels(SafetensorsFile fixture, string key)
    {
        using var pixels = fixture.Load(key + ".pixels");
        return new Image(pixels.Shape[1], pixels.Shape[0], 3, pixels.AsSpan<byte>().ToArray());
    }

    /// <summary>Reference detections as the instances a model returns, to match one reference run against another.</summary>
    internal static List<SegmentedInstance> AsInstances(IReadOnlyList<ReferenceDetection> detections, int height, int width) =>
        [.. detections.Select(d => new SegmentedInstance(d.Box[0], d.Box[1], d.Box[2], d.Box[3], d.Score, d.Score, d.CategoryId, Rle.FromRowMajor(d.Mask!, height, width)))];
}
