using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Whole-image parity with torchvision 0.14's maskrcnn_resnet50_fpn (fixture from
/// tests/reference/make_maskrcnn_image_fixtures.py): the same hashed weights loaded through a converted file,
/// run end to end on an image already at the model's input size and on one the preprocessing resizes.
/// </summary>
public class TorchvisionImageParityTests
{
    [Theory]
    [InlineData("exact")]
    [InlineData("resized")]
    public void WholeImageDetectionsMatch(string image)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_images.safetensors"));
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        WriteModel(path, fixture.Metadata);
        using var pixels = fixture.Load(image + ".pixels");
        int height = pixels.Shape[0], width = pixels.Shape[1];
        var input = new Image(width, height, 3, pixels.AsSpan<byte>().ToArray());
        using var model = MaskRcnnModel.Load(path, Device.Cpu);
        var ours = model.Segment([input])[0];

        var reference = Reference(fixture, image, width, height);
        var outcome = DetectionMatching.Match(reference, ours, width, height);
        Assert.True(outcome.Matched >= 0.95 * outcome.Total, $"{outcome.Matched} of torchvision's top {outcome.Total} detections matched");
        Assert.True(outcome.MasksCompared >= 0.95 * outcome.Total, $"only {outcome.MasksCompared} masks compared");
        Assert.True(outcome.MinMaskIou >= 0.95, $"a matched mask has IoU {outcome.MinMaskIou:F4} with torchvision's");
    }

    /// <summary>
    /// The fixture's model as a converted file: every tensor is offset + hashed uniform, and the config keeps
    /// torchvision's sizes, its FrozenBatchNorm eps of a model built without pretrained weights (1e-5) and
    /// every detection (score threshold 0, as the reference ran).
    /// </summary>
    private static void WriteModel(string path, IReadOnlyDictionary<string, string> meta)
    {
        var weights = HashedWeights.LoadAll(meta, "backbone.", "rpn.", "roi_heads.");
        try
        {
            foreach (var (name, tensor) in weights)
            {
                if (!meta.TryGetValue("offset." + name, out var text)) continue;
                float offset = float.Parse(text, CultureInfo.InvariantCulture);
                foreach (ref float v in tensor.AsSpan<float>()) v += offset;
            }
            string config = $$"""{"min_size": {{meta["min_size"]}}, "max_size": {{meta["max_size"]}}, "norm_eps": 1e-5, "score_thresh": 0}""";
            SafetensorsWriter.Write(path, weights.OrderBy(p => p.Key, StringComparer.Ordinal), new Dictionary<string, string>
            {
                ["architecture"] = MaskRcnnArchitectures.Torchvision,
                ["config"] = config,
            });
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    private static List<ReferenceDetection> Reference(SafetensorsFile fixture, string image, int width, int height)
    {
        using var boxes = fixture.Load(image + ".boxes");
        using var scores = fixture.Load(image + ".scores");
        using var labels = fixture.Load(image + ".labels");
        using var packed = fixture.Load(image + ".masks.packed");
        var b = boxes.AsSpan<float>();
        var s = scores.AsSpan<float>();
        var l = labels.AsSpan<long>();
        var bits = packed.AsSpan<byte>();
        int rowBytes = packed.Shape[1], count = s.Length, pixels = width * height;
        var result = new List<ReferenceDetection>(count);
        for (int i = 0; i < count; i++)
        {
            var mask = new byte[pixels];
            for (int p = 0; p < pixels; p++) mask[p] = (byte)((bits[i * rowBytes + p / 8] >> (7 - p % 8)) & 1);
            result.Add(new ReferenceDetection(b.Slice(i * 4, 4).ToArray(), s[i], l[i], mask));
        }
        return result;
    }
}
