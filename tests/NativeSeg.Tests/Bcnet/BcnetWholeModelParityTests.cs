using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models;
using NativeSeg.Tests.Models.MaskRcnn;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.MaskHeads;
using BcnetModel = NativeSeg.Models.Bcnet.Bcnet;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// Whole-model parity at full width (fixture from tests/reference/make_bcnet_model_fixtures.py): a 256-channel
/// BCNet FCOS R50-FPN with hashed weights, written as a converted file and run from a 96×128 image through
/// detectron2 preprocessing, the ResNet and FPN, the FCOS head and post-processing, the bilayer head and the paste.
/// Each stage is checked against the reference's checkpoint so that a failure names the first stage that drifts.
/// </summary>
public class BcnetWholeModelParityTests
{
    private const double Tolerance = 1e-4;

    /// <summary>
    /// For the pyramid and the centre-ness logits, whose worst elements sit near zero at the end of a 60-layer
    /// float32 chain: the reference's own float32 run differs from a float64 one by up to 5e-5 there (P3 slices
    /// 4.5e-5, P3 centre-ness 5.3e-5 in this metric), so two float32 implementations can differ by a few times that.
    /// </summary>
    private const double ChainTolerance = 5e-4;

    [Fact]
    public void ImageToPastedMasksMatchesTheReference()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bcnet_model.safetensors"));
        var meta = fixture.Metadata;
        int channels = int.Parse(meta["channels"], CultureInfo.InvariantCulture);
        int step = int.Parse(meta["channel_step"], CultureInfo.InvariantCulture);
        using var temp = new TempFolder();
        string path = temp.File("bcnet.safetensors");
        var config = new FcosConfig(Channels: channels);

        // A second top block and FCOS head on the same weights expose the head outputs the model keeps internal.
        FcosTopBlock top;
        FcosHead head;
        var weights = Weights(meta);
        try
        {
            SafetensorsWriter.Write(path, weights.OrderBy(p => p.Key, StringComparer.Ordinal),
                new Dictionary<string, string> { ["architecture"] = BcnetArchitecture.FcosR50Fpn });
            var store = new ParameterStore(weights, Device.Cpu);
            top = new FcosTopBlock(store, channels);
            head = new FcosHead(store, config);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }

        using (top)
        using (head)
        using (var model = BcnetModel.Load(path, Device.Cpu))
        using (var pixels = fixture.Load("pixels"))
        {
            int height = pixels.Shape[0], width = pixels.Shape[1];
            var image = new Image(width, height, 3, pixels.AsSpan<byte>().ToArray());
            var preprocess = PreprocessConfig.For(DetectionFlavour.Detectron2) with
            {
                MinSize = int.Parse(meta["min_size"], CultureInfo.InvariantCulture),
                MaxSize = int.Parse(meta["max_size"], CultureInfo.InvariantCulture),
            };
            using var input = ImagePreprocessor.Run(image, preprocess, Device.Cpu);
            Assert.Equal(Ints(fixture, "input.size"), new[] { input.Height, input.Width });

            CheckPyramidAndHead(fixture, model, top, head, input, step);

            var detections = model.Detect(input);
            CheckDetections(fixture, detections);

            var ours = new InstancePostprocessor(MaskRcnnConfig.Detectron2Coco(), Device.Cpu)
                .Run(detections, new ImageGeometry(input.Height, input.Width, height, width));
            var reference = Reference(fixture, width, height);
            var outcome = DetectionMatching.Match(reference, ours, width, height);
            Assert.Equal(reference.Count, ours.Count);
            Assert.True(outcome.Matched == outcome.Total, $"{outcome.Matched} of the reference's {outcome.Total} detections matched");
            Assert.Equal(outcome.Total, outcome.MasksCompared);
            Assert.True(outcome.MinMaskIou >= 0.99, $"a matched pasted mask has IoU {outcome.MinMaskIou:F4} with the reference's");
        }
    }

    /// <summary>Every tensor of the fixture's model: offset + hashed uniform, as the script built them.</summary>
    private static Dictionary<string, Tensor> Weights(IReadOnlyDictionary<string, string> meta)
    {
        var weights = HashedWeights.LoadAll(meta, "backbone.", "head.", "mask_head.");
        foreach (var (name, tensor) in weights)
        {
            if (!meta.TryGetValue("offset." + name, out var text)) continue;
            float offset = float.Parse(text, CultureInfo.InvariantCulture);
            foreach (ref float v in tensor.AsSpan<float>()) v += offset;
        }
        return weights;
    }

    private static void CheckPyramidAndHead(SafetensorsFile fixture, BcnetModel model, FcosTopBlock top, FcosHead head, PreprocessedImage input, int step)
    {
        var pyramid = new List<Tensor>(model.Features(input));
        try
        {
            pyramid.AddRange(top.Forward(pyramid[2]));
            for (int l = 0; l < pyramid.Count; l++)
            {
                var (sums, every) = Summaries(pyramid[l], step);
                using (sums)
                using (every)
                {
                    BcnetFixture.AssertClose(Floats(fixture, $"p{l + 3}.sums"), sums, ChainTolerance, $"P{l + 3} channel sums");
                    BcnetFixture.AssertClose(Floats(fixture, $"p{l + 3}.every{step}"), every, ChainTolerance, $"P{l + 3} every {step}th channel");
                }
            }
            var outputs = head.Forward(pyramid);
            try
            {
                for (int l = 0; l < outputs.Count; l++)
                {
                    BcnetFixture.AssertClose(Floats(fixture, $"head.{l}.logits"), outputs[l].Logits, Tolerance, $"P{l + 3} logits");
                    BcnetFixture.AssertClose(Floats(fixture, $"head.{l}.reg"), outputs[l].Regression, Tolerance, $"P{l + 3} regression");
                    BcnetFixture.AssertClose(Floats(fixture, $"head.{l}.ctr"), outputs[l].Centerness, ChainTolerance, $"P{l + 3} centre-ness");
                }
            }
            finally
            {
                foreach (var o in outputs) o.Dispose();
            }
        }
        finally
        {
            foreach (var p in pyramid) p.Dispose();
        }
    }

    /// <summary>Per-channel sums and every <paramref name="step"/>-th channel of a 1×C×H×W level, as the script stores them.</summary>
    private static (Tensor Sums, Tensor Every) Summaries(Tensor level, int step)
    {
        int c = level.Shape[1], h = level.Shape[2], w = level.Shape[3], plane = h * w;
        var values = level.ToArray<float>();
        var sums = new float[c];
        var every = new float[(c + step - 1) / step * plane];
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int i = 0; i < plane; i++) sum += values[ch * plane + i];
            sums[ch] = (float)sum;
            if (ch % step == 0) values.AsSpan(ch * plane, plane).CopyTo(every.AsSpan(ch / step * plane));
        }
        return (Tensor.FromArray(sums, c), Tensor.FromArray(every, 1, every.Length / plane, h, w));
    }

    /// <summary>
    /// Detections in the resized image before the paste, and the 28×28 occludee probabilities of the top ones. Some
    /// scores differ by ~1e-6, within float32 drift, so detections are paired by label, box and score, not by rank.
    /// </summary>
    private static void CheckDetections(SafetensorsFile fixture, MaskDetections ours)
    {
        var boxes = Floats(fixture, "det.boxes");
        var scores = Floats(fixture, "det.scores");
        var labels = Longs(fixture, "det.labels");
        var probs = Floats(fixture, "mask.probs");
        var d = ours.Boxes;
        const int plane = BilayerMaskHead.MaskSide * BilayerMaskHead.MaskSide;
        Assert.Equal(BilayerMaskHead.MaskSide, ours.MaskSide);
        Assert.Equal(scores.Length, d.Count);
        int withMasks = probs.Length / plane;
        var used = new bool[d.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            float[] box = boxes.AsSpan(i * 4, 4).ToArray();
            int best = -1;
            double bestIou = 0;
            for (int j = 0; j < d.Count; j++)
            {
                if (used[j] || d.Labels[j] != labels[i] || Math.Abs(d.Scores[j] - scores[i]) > Tolerance) continue;
                double iou = DetectionMatching.BoxIou(box, d.Boxes.AsSpan(j * 4, 4).ToArray());
                if (iou >= 0.999 && iou > bestIou) (best, bestIou) = (j, iou);
            }
            Assert.True(best >= 0, $"reference detection {i} (label {labels[i]}, score {scores[i]}) has no counterpart");
            used[best] = true;
            using (var ourBox = Tensor.FromArray(d.Boxes.AsSpan(best * 4, 4).ToArray(), 4))
                BcnetFixture.AssertClose(box, ourBox, Tolerance, $"detection {i} box");
            if (i >= withMasks) continue;
            using var ourProbs = Tensor.FromArray(ours.MaskProbs.AsSpan(best * plane, plane).ToArray(), plane);
            BcnetFixture.AssertClose(probs.AsSpan(i * plane, plane).ToArray(), ourProbs, Tolerance, $"detection {i} occludee mask");
        }
    }

    /// <summary>The detections detector_postprocess kept, in the original image, with their pasted masks.</summary>
    private static List<ReferenceDetection> Reference(SafetensorsFile fixture, int width, int height)
    {
        var keep = Longs(fixture, "final.keep");
        var boxes = Floats(fixture, "final.boxes");
        var scores = Floats(fixture, "det.scores");
        var labels = Longs(fixture, "det.labels");
        using var packed = fixture.Load("final.masks.packed");
        var bits = packed.AsSpan<byte>();
        int rowBytes = packed.Shape[1], pixels = width * height;
        var categories = MaskRcnnConfig.Detectron2Coco().CategoryIds;
        var result = new List<ReferenceDetection>(keep.Length);
        for (int k = 0; k < keep.Length; k++)
        {
            var mask = new byte[pixels];
            for (int p = 0; p < pixels; p++) mask[p] = (byte)((bits[k * rowBytes + p / 8] >> (7 - p % 8)) & 1);
            long i = keep[k];
            result.Add(new ReferenceDetection(boxes.AsSpan(k * 4, 4).ToArray(), scores[i], categories[(int)labels[i]], mask));
        }
        return result;
    }

    private static float[] Floats(SafetensorsFile file, string name)
    {
        using var t = file.Load(name);
        return t.ToArray<float>();
    }

    private static long[] Longs(SafetensorsFile file, string name)
    {
        using var t = file.Load(name);
        return t.ToArray<long>();
    }

    private static int[] Ints(SafetensorsFile file, string name)
    {
        using var t = file.Load(name);
        return t.ToArray<int>();
    }
}
