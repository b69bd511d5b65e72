using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Postprocessing of detections whose boxes are clipped at every edge of the resized image (fixture from
/// tests/reference/make_border_paste_fixtures.py): a 640×480 image at the default 800/1333 transform, boxes scaled
/// back and masks pasted as torchvision's GeneralizedRCNNTransform.postprocess and detectron2's
/// detector_postprocess do. The pasted probabilities keep off 0.5, so every pixel must agree.
/// </summary>
public class BorderPostprocessTests
{
    [Theory]
    [InlineData("torchvision")]
    [InlineData("detectron2")]
    public void EdgeBoxesScaleAndPasteAsTheFramework(string flavour)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("postprocess_border.safetensors"));
        using var original = fixture.Load("original");
        using var resized = fixture.Load(flavour + ".resized");
        using var boxes = fixture.Load(flavour + ".boxes");
        using var masks = fixture.Load(flavour + ".masks");
        int height = original.AsSpan<int>()[0], width = original.AsSpan<int>()[1];
        var geometry = new ImageGeometry(resized.AsSpan<int>()[0], resized.AsSpan<int>()[1], height, width);
        int count = boxes.Shape[0];
        var scores = Enumerable.Range(0, count).Select(i => 1f - i / 100f).ToArray();
        var detections = new MaskDetections(new Detections(boxes.AsSpan<float>().ToArray(), scores, new int[count]),
            masks.AsSpan<float>().ToArray(), masks.Shape[1], scores);
        var config = flavour == "torchvision" ? MaskRcnnConfig.TorchvisionCoco() : MaskRcnnConfig.Detectron2Coco();

        var ours = new InstancePostprocessor(config, Device.Cpu).RunTraced(detections, geometry);

        using var kept = fixture.Load(flavour + ".out.kept");
        using var expectedBoxes = fixture.Load(flavour + ".out.boxes");
        var expectedMasks = RleFixture.Load(fixture, flavour + ".out", height, width);
        Assert.Equal(kept.AsSpan<int>().ToArray(), ours.Select(o => o.Detection).ToArray());
        var e = expectedBoxes.AsSpan<float>();
        for (int k = 0; k < ours.Count; k++)
        {
            var o = ours[k].Instance;
            Assert.Equal(e.Slice(k * 4, 4).ToArray(), new[] { o.X1, o.Y1, o.X2, o.Y2 });
            long differing = o.Mask.Area + expectedMasks[k].Area - 2 * Rle.Intersection(o.Mask, expectedMasks[k]);
            Assert.True(differing == 0, $"{flavour} box {ours[k].Detection} ({o.X1}, {o.Y1}, {o.X2}, {o.Y2}): {differing} pixels differ from the reference's {expectedMasks[k].Area}");
        }
    }
}
