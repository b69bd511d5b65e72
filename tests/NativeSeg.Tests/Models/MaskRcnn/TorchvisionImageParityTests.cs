using System.Globalization;
using System.Security.Cryptography;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Whole-image parity with torchvision 0.14's maskrcnn_resnet50_fpn (fixture from
/// tests/reference/make_maskrcnn_image_fixtures.py): the same hashed weights loaded through a converted file,
/// run end to end on an image already at the model's input size, on one the preprocessing resizes, and on a real
/// COCO image at the default transform.
/// </summary>
public class TorchvisionImageParityTests
{
    [Theory]
    [InlineData("exact")]
    [InlineData("resized")]
    public void WholeImageDetectionsMatch(string image)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_images.safetensors"));
        using var pixels = fixture.Load(image + ".pixels");
        int height = pixels.Shape[0], width = pixels.Shape[1];
        var ours = Segment(fixture.Metadata, [new Image(width, height, 3, pixels.AsSpan<byte>().ToArray())])[0];

        DetectionMatching.AssertParity(Reference(fixture, image, width, height), ours, width, height, image);
    }

    /// <summary>
    /// The default 800/1333 transform on a real 640×480 COCO image, read from ../shared/data (fixture from
    /// tests/reference/make_maskrcnn_coco_image_fixture.py): the top detections include boxes clipped at the
    /// image's edges, whose masks are pasted against the zero padding of the mask.
    /// </summary>
    [Fact]
    public void DefaultTransformOnACocoImageMatches()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_coco_image.safetensors"));
        string? file = SharedData.File(fixture.Metadata["image"]);
        if (file is null) return;
        var input = ImageFile.Read(file);
        Assert.True(fixture.Metadata["image.sha256"] == Convert.ToHexStringLower(SHA256.HashData(input.Pixels)),
            $"{file} does not decode to the pixels torchvision ran on");
        int height = input.Height, width = input.Width;
        var ours = Segment(fixture.Metadata, [input])[0];

        var reference = RleReference(fixture, "", height, width);
        int onEdges = reference.Count(r => r.Box[0] == 0 || r.Box[1] == 0 || r.Box[2] == width || r.Box[3] == height);
        Assert.True(onEdges >= 5, $"only {onEdges} of the reference's boxes touch an image edge");
        DetectionMatching.AssertParity(reference, ours, width, height, file, minMatched: 48);
    }

    /// <summary>The instances of each of <paramref name="inputs"/>, run as one batch by the fixture's model on the CPU.</summary>
    internal static IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyDictionary<string, string> meta, IReadOnlyList<Image> inputs)
    {
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        WriteModel(path, meta);
        using var model = MaskRcnnModel.Load(path, Device.Cpu);
        return model.Segment(inputs);
    }

    /// <summary>Detections stored as {prefix}boxes, scores, labels and RLE masks.</summary>
    internal static List<ReferenceDetection> RleReference(SafetensorsFile fixture, string prefix, int height, int width)
    {
        using var boxes = fixture.Load(prefix + "boxes");
        using var scores = fixture.Load(prefix + "scores");
        using var labels = fixture.Load(prefix + "labels");
        float[] b = boxes.AsSpan<float>().ToArray(), s = scores.AsSpan<float>().ToArray();
        long[] l = labels.AsSpan<long>().ToArray();
        return RleFixture.Load(fixture, prefix + "masks", height, width)
            .Select((m, i) => new ReferenceDetection(b[(i * 4)..(i * 4 + 4)], s[i], l[i], m.ToRowMajor())).ToList();
    }

    /// <summary>
    /// The fixture's model as a converted file: every tensor is offset + hashed uniform, and the config keeps
    /// torchvision's sizes, its FrozenBatchNorm eps of a model built without pretrained weights (1e-5) and
    /// every detection (score threshold 0, as the reference ran).
    /// </summary>
    /// <param name="minSize">Replaces the fixture's resize target (and <paramref name="maxSize"/> its cap), for cheaper runs.</param>
    internal static void WriteModel(string path, IReadOnlyDictionary<string, string> meta, int? minSize = null, int? maxSize = null)
    {
        var weights = ModelWeights(meta);
        try
        {
            WriteModel(path, MaskRcnnArchitectures.Torchvision, weights, meta, minSize, maxSize);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>The fixture's model tensors under torchvision's names, offsets added; the caller disposes them.</summary>
    internal static Dictionary<string, Tensor> ModelWeights(IReadOnlyDictionary<string, string> meta) =>
        HashedWeights.LoadAllWithOffsets(meta, "backbone.", "rpn.", "roi_heads.");

    /// <summary><paramref name="weights"/> as a converted <paramref name="architecture"/> file with the config of <see cref="WriteModel(string, IReadOnlyDictionary{string, string}, int?, int?)"/>.</summary>
    internal static void WriteModel(string path, string architecture, IEnumerable<KeyValuePair<string, Tensor>> weights, IReadOnlyDictionary<string, string> meta,
        int? minSize, int? maxSize)
    {
        string config = $$"""{"min_size": {{minSize?.ToString(CultureInfo.InvariantCulture) ?? meta["min_size"]}}, "max_size": {{maxSize?.ToString(CultureInfo.InvariantCulture) ?? meta["max_size"]}}, "norm_eps": 1e-5, "score_thresh": 0}""";
        SafetensorsWriter.Write(path, weights.OrderBy(p => p.Key, StringComparer.Ordinal), new Dictionary<string, string>
        {
            ["architecture"] = architecture,
            ["config"] = config,
        });
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
