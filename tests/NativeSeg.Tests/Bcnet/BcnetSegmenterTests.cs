using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Tests.Layers;
using NativeSeg.Tests.Models;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// A converted BCNet file opened through <see cref="InstanceSegmenters"/>: the fixture's 64-channel heads on the
/// hashed detectron2 ResNet with a hashed 64-channel res3–res5 FPN, end to end on a small image.
/// </summary>
public class BcnetSegmenterTests
{
    [Fact]
    public void ALoadedFileSegmentsWithTheHeadsDetections()
    {
        using var fx = new BcnetFixture();
        var weights = new Dictionary<string, Tensor>(fx.Weights, StringComparer.Ordinal);
        foreach (var (name, t) in BackboneWeights.Detectron2().Where(w => w.Key.StartsWith("backbone.bottom_up.", StringComparison.Ordinal)))
            weights[name] = t;
        int[] stageChannels = [512, 1024, 2048];
        var fpn = new List<Tensor>();
        for (int level = 3; level <= 5; level++)
        {
            int inputs = stageChannels[level - 3];
            fpn.Add(weights[$"backbone.fpn_lateral{level}.weight"] = Tensor.FromArray(HashedWeights.Uniform($"lateral{level}", fx.Channels * inputs, Math.Sqrt(3.0 / inputs)), fx.Channels, inputs, 1, 1));
            fpn.Add(weights[$"backbone.fpn_lateral{level}.bias"] = Tensor.FromArray(HashedWeights.Uniform($"lateral{level}.bias", fx.Channels, 0.1), fx.Channels));
            fpn.Add(weights[$"backbone.fpn_output{level}.weight"] = Tensor.FromArray(HashedWeights.Uniform($"output{level}", fx.Channels * fx.Channels * 9, Math.Sqrt(3.0 / (fx.Channels * 9))), fx.Channels, fx.Channels, 3, 3));
            fpn.Add(weights[$"backbone.fpn_output{level}.bias"] = Tensor.FromArray(HashedWeights.Uniform($"output{level}.bias", fx.Channels, 0.1), fx.Channels));
        }
        string path = Path.Combine(Path.GetTempPath(), $"bcnet-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsWriter.Write(path, weights, new Dictionary<string, string> { ["architecture"] = BcnetArchitecture.FcosR50Fpn });
            var pixels = new byte[48 * 64 * 3];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)HashedWeights.Fnv1a($"pixel{i}");
            var image = new Image(64, 48, 3, pixels);

            using var model = InstanceSegmenters.Open(path);
            var bcnet = Assert.IsType<NativeSeg.Models.Bcnet.Bcnet>(model);
            var predictions = model.Predict(image);

            // The same preprocessed input through the features and a separately built BcnetHeads.
            using var input = ImagePreprocessor.Run(image, NativeSeg.Models.Bcnet.Bcnet.Preprocess, Device.Cpu);
            using var heads = new BcnetHeads(new ParameterStore(weights, Device.Cpu), new FcosConfig(Channels: fx.Channels));
            var levels = bcnet.Features(input);
            MaskDetections direct;
            try
            {
                direct = heads.Forward(levels)[0];
            }
            finally
            {
                foreach (var l in levels) l.Dispose();
            }

            Assert.NotEmpty(predictions);
            Assert.Equal(direct.Boxes.Count, predictions.Count);
            for (int i = 0; i < predictions.Count; i++)
            {
                var p = predictions[i];
                Assert.Equal(direct.Boxes.Scores[i], p.Score, 6);
                Assert.Equal(MaskRcnnConfig.Coco80[direct.Boxes.Labels[i]], p.CategoryId);
                Assert.Equal(48, p.Mask.Height);
                Assert.Equal(64, p.Mask.Width);
                Assert.NotNull(p.Box);
                var box = p.Box.Value;
                Assert.InRange(box.X, 0, 64);
                Assert.InRange(box.Y, 0, 48);
                Assert.InRange(box.X + box.Width, 0, 64);
                Assert.InRange(box.Y + box.Height, 0, 48);
                // Boxes are scaled from the 800×1067 input back to the 48×64 image.
                double scale = 64.0 / input.Width;
                Assert.Equal(Math.Clamp(direct.Boxes.Boxes[i * 4] * scale, 0, 64), box.X, 3);
            }
        }
        finally
        {
            File.Delete(path);
            foreach (var t in fpn) t.Dispose();
        }
    }
}
