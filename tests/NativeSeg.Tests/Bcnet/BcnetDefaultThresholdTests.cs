using NativeSeg.Api;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Cli;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Native;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// Issue 18 §5: with no threshold given, a converted BCNet FCOS model keeps its released config's candidate
/// threshold (INFERENCE_TH_TEST 0.03) through every entry point, rather than a Mask R-CNN-style 0.05.
/// </summary>
public class BcnetDefaultThresholdTests
{
    [Fact]
    public void DefaultsKeepTheCandidatesAboveThreeHundredths()
    {
        using var fx = new BcnetFixture();
        using var temp = new TempFolder();
        var fpn = new List<Tensor>();
        try
        {
            string model = temp.File("bcnet.safetensors");
            var weights = fx.WholeModel(fpn);
            // Every location's every class at sigmoid(cls) = 0.04, between the released 0.03 and Mask R-CNN's 0.05.
            var logits = weights["head.cls_logits.weight"];
            var bias = weights["head.cls_logits.bias"];
            fpn.Add(weights["head.cls_logits.weight"] = Tensor.Zeros(logits.Shape, DType.Float32, Device.Cpu));
            fpn.Add(weights["head.cls_logits.bias"] = Tensor.FromArray(Enumerable.Repeat(MathF.Log(0.04f / 0.96f), bias.Shape[0]).ToArray(), bias.Shape[0]));
            SafetensorsWriter.Write(model, weights, new Dictionary<string, string> { ["architecture"] = BcnetArchitecture.FcosR50Fpn });
            string png = ShapesImage.Write(temp, out var image);

            int Count(float? threshold)
            {
                using var net = InstanceSegmenters.Open(model, new SegmenterOptions(Device.Cpu, threshold));
                return net.Predict(image).Count;
            }
            int released = Count(0.03f), maskRcnnDefault = Count(0.05f);
            Assert.True(released > 0, "no detections at the released threshold");
            Assert.Equal(0, maskRcnnDefault);

            Assert.Equal(released, Count(null));
            using (var api = Segmenter.Load(model, "cpu")) Assert.Equal(released, api.Segment(png).Count);
            var (code, _, error) = CliRun.Run("segment", png, "--model", model, "--device", "cpu", "--out", temp.File("out"));
            Assert.True(code == 0, error);
            Assert.Equal(released, CocoJson.ReadResults(temp.File("out/results.json")).Count);
        }
        finally
        {
            foreach (var t in fpn) t.Dispose();
        }
    }
}
