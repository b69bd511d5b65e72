using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// A batch of two differently shaped images against torchvision 0.14 running the same batch (fixture from
/// tests/reference/make_maskrcnn_batch_fixture.py): both pad every image to the batch's largest size rounded up to
/// 32, which changes the features near the padded edges, so a batch's detections are the framework's batch ones,
/// not those of each image run alone.
/// </summary>
public class TorchvisionBatchParityTests
{
    private static readonly string[] Images = ["wide", "tall"];

    [Fact]
    public void BatchMatchesTorchvisionsBatch()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_batch.safetensors"));
        var inputs = Images.Select(key => Pixels(fixture, key)).ToList();
        var ours = TorchvisionImageParityTests.Segment(fixture.Metadata, inputs);

        for (int n = 0; n < inputs.Count; n++)
        {
            var reference = TorchvisionImageParityTests.RleReference(fixture, Images[n] + ".batch.", inputs[n].Height, inputs[n].Width);
            DetectionMatching.AssertParity(reference, ours[n], inputs[n].Width, inputs[n].Height, Images[n] + " in the batch");
        }
    }

    /// <summary>What makes the batch test mean something: torchvision's own batch differs from its runs of each image alone.</summary>
    [Fact]
    public void TorchvisionsBatchDiffersFromEachImageAlone()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_batch.safetensors"));
        foreach (string key in Images)
        {
            var image = Pixels(fixture, key);
            var alone = TorchvisionImageParityTests.RleReference(fixture, key + ".alone.", image.Height, image.Width);
            var batch = TorchvisionImageParityTests.RleReference(fixture, key + ".batch.", image.Height, image.Width);
            var asInstances = batch.Select(d => new SegmentedInstance(d.Box[0], d.Box[1], d.Box[2], d.Box[3], d.Score, d.Score, d.CategoryId,
                Rle.FromRowMajor(d.Mask!, image.Height, image.Width))).ToList();
            var outcome = DetectionMatching.Match(alone, asInstances, image.Width, image.Height);
            Assert.True(outcome.Matched < 0.95 * outcome.Total, $"{key}: {outcome.Matched} of {outcome.Total} detections alone match the batch's");
        }
    }

    private static Image Pixels(SafetensorsFile fixture, string key)
    {
        using var pixels = fixture.Load(key + ".pixels");
        return new Image(pixels.Shape[1], pixels.Shape[0], 3, pixels.AsSpan<byte>().ToArray());
    }
}
