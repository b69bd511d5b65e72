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
using NativeSeg.Models.Detection;

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
        var fpn = new List<Tensor>();
        var weights = fx.WholeModel(fpn);
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
            using var input = ImagePreprocessor.Run(image, BcnetArchitecture.R50.Preprocess, Device.Cpu);
            using var heads = new BcnetHeads(new ParameterStore(weights, Device.Cpu), new FcosConfig(Channels: fx.Channels));
            // Compiled as the loaded model is, so both run the same convolution algorithms (Winograd on the larger maps).
            heads.CompileForInference();
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

            // detectron2 clips the boxes scaled back to the 48×64 image and drops those left empty.
            double scale = 64.0 / input.Width;
            var d = direct.Boxes.Boxes;
            var kept = Enumerable.Range(0, direct.Boxes.Count).Where(i =>
                Math.Clamp(d[i * 4 + 2] * scale, 0, 64) > Math.Clamp(d[i * 4] * scale, 0, 64)
                && Math.Clamp(d[i * 4 + 3] * scale, 0, 48) > Math.Clamp(d[i * 4 + 1] * scale, 0, 48)).ToList();
            Assert.NotEmpty(predictions);
            Assert.Equal(kept.Count, predictions.Count);
            for (int k = 0; k < predictions.Count; k++)
            {
                var p = predictions[k];
                int i = kept[k];
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
                Assert.Equal(Math.Clamp(d[i * 4] * scale, 0, 64), box.X, 3);
            }
        }
        finally
        {
            File.Delete(path);
            foreach (var t in fpn) t.Dispose();
        }
    }
}
