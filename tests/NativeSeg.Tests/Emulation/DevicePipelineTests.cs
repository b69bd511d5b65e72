using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Layers;
using NativeSeg.Tests.Models;
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device-resident Mask R-CNN pipeline on the emulated device: a real COCO image segmented by torchvision's
/// R50-FPN (hashed weights, every detection kept), and by the same model in detectron2's and maskrcnn-benchmark's
/// layouts and flavours (the latter also as MS R-CNN, with a hashed MaskIoU head), gives the CPU's instances, with at
/// most two copies back.
/// The image is resized to a 256-pixel short side and the model keeps 300 proposals and 50 detections (torchvision:
/// 800, 1000 and 100), so the emulated kernels finish in a few minutes on a busy two-core machine.
/// </summary>
public class DevicePipelineTests(ITestOutputHelper output)
{
    private const int MinSize = 256, MaxSize = 427, Proposals = 300;
    internal const int Detections = 50;

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithTwoCopiesBack() =>
        AssertDeviceAgrees(CocoCase, DetectionFlavour.Torchvision, found => found == Detections);

    /// <summary>
    /// The same model in detectron2's layout and flavour: logit proposal scores, detectron2's proposal filter, no
    /// background box column, boxes clipped to the image and the empty ones dropped, its paste. The clip may drop
    /// some of the 50 detections, so the CPU's count is only bounded below.
    /// </summary>
    [Fact]
    public void SegmentsACocoImageInTheDetectron2FlavourAsTheCpuDoes() =>
        AssertDeviceAgrees(Detectron2CocoCase, DetectionFlavour.Detectron2, found => found >= Detections / 4);

    /// <summary>
    /// The same model in maskrcnn-benchmark's layout and flavour, without the MaskIoU head: sigmoid objectness ranked
    /// by the top-k, "+1" boxes clipped to size − 1, "+1" NMS areas, and the detections class by class in the CPU's order.
    /// </summary>
    [Fact]
    public void SegmentsACocoImageInTheMaskRcnnBenchmarkFlavourAsTheCpuDoes()
    {
        var (expected, ours) = AssertDeviceAgrees(path => MaskRcnnBenchmarkCocoCase(path, maskIou: false), DetectionFlavour.MaskRcnnBenchmark,
            found => found == Detections, heads => heads with { MaskIou = false });
        if (ours is not null) AssertSameOrder(expected, ours, i => i.Score);
    }

    /// <summary>
    /// As MS R-CNN: the MaskIoU head on every detection slot and the mask scores it rescales, compared with the CPU's
    /// as the box scores are; the CPU's IoUs must vary from detection to detection, or a constant factor would pass.
    /// The proposal and box stages are the test above's, so this one keeps 100 proposals and 20 detections to stay short.
    /// </summary>
    [Fact]
    public void SegmentsACocoImageWithMsRcnnAsTheCpuDoes()
    {
        const int detections = 20;
        var (expected, ours) = AssertDeviceAgrees(path => MaskRcnnBenchmarkCocoCase(path, maskIou: true), DetectionFlavour.MaskRcnnBenchmark,
            found => found == detections, heads => heads with { RpnPostNmsTopK = 100, DetectionsPerImage = detections });
        if (ours is null) return;
        var ious = expected.Where(i => i.Score > 0).Select(i => i.MaskScore / i.Score).ToList();
        output.WriteLine($"CPU mask score / box score from {ious.Min():F3} to {ious.Max():F3}");
        Assert.True(ious.Max() - ious.Min() > 0.05, $"the MaskIoU head's IoUs span only {ious.Min()} to {ious.Max()}");
        AssertSameOrder(expected, ours, i => i.MaskScore);
    }

    /// <summary>
    /// maskrcnn-benchmark's output order (class by class, each by descending score) is the CPU's on the device too: the
    /// i-th instances have one category and <paramref name="score"/>s within the parity tests' 0.01. (The box match above
    /// cannot pair a box the "+1" clip left with x2 &lt; x1, which has no area; this pairs it by its place.)
    /// </summary>
    private static void AssertSameOrder(IReadOnlyList<SegmentedInstance> expected, IReadOnlyList<SegmentedInstance> ours, Func<SegmentedInstance, float> score)
    {
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].CategoryId == ours[i].CategoryId && Math.Abs(score(expected[i]) - score(ours[i])) <= 0.01f,
                $"instance {i}: CPU category {expected[i].CategoryId} score {score(expected[i])}, device {ours[i].CategoryId} {score(ours[i])}");
        }
    }

    /// <param name="cocoCase">Writes the model to the path it is given; returns the image, or null when the shared data is absent.</param>
    /// <param name="enough">Whether the CPU found enough instances (of the <see cref="Detections"/> kept) for the comparison to mean something.</param>
    /// <param name="heads">Changes the file's head settings after this test's proposal and detection counts.</param>
    /// <returns>The CPU's and the device's instances; the device's null when the shared data is absent.</returns>
    private (IReadOnlyList<SegmentedInstance> Cpu, IReadOnlyList<SegmentedInstance>? Device) AssertDeviceAgrees(Func<string, (Image Image, string File)?> cocoCase,
        DetectionFlavour flavour, Func<int, bool> enough, Func<MaskRcnnConfig, MaskRcnnConfig>? heads = null)
    {
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        if (cocoCase(path) is not (Image image, string file)) return ([], null);
        var settings = heads ?? (h => h);

        IReadOnlyList<SegmentedInstance> expected;
        using (var cpu = Load(path, Device.Cpu, h => settings(TestSizes(h))))
        {
            Assert.Equal(flavour, cpu.Setup.Heads.Flavour);
            expected = cpu.Segment([image])[0];
        }
        Assert.True(enough(expected.Count), $"the CPU found {expected.Count} instances a score threshold of 0 keeps");

        using var runtime = new EmulatedRuntime();
        using var model = Load(path, Device.ForRuntime(runtime), h => settings(TestSizes(h)));
        return (expected, DeviceSegmentationCheck.Assert(output, runtime, model.Device, stages => model.Segment([image], stages)[0], expected, image, file));
    }

    /// <summary>
    /// The fixture's real COCO image (and its path), with the R50-FPN model written to <paramref name="modelPath"/> at this
    /// test's sizes; null when the shared data is absent.
    /// </summary>
    internal static (Image Image, string File)? CocoCase(string modelPath) =>
        CocoCase(meta => TorchvisionImageParityTests.WriteModel(modelPath, meta, MinSize, MaxSize));

    /// <summary>
    /// As <see cref="CocoCase(string)"/>, with the model's tensors renamed to detectron2's layout (spec §2.3: its
    /// backbone names, 80 classes with background last) and written as detectron2's architecture.
    /// </summary>
    internal static (Image Image, string File)? Detectron2CocoCase(string modelPath) =>
        RenamedCocoCase(modelPath, MaskRcnnArchitectures.Detectron2, BackboneWeights.Detectron2, HeadRenaming.Detectron2, "backbone.bottom_up.stem.conv1.weight", new());

    /// <summary>
    /// As <see cref="CocoCase(string)"/>, with the model's tensors renamed to maskrcnn-benchmark's layout (spec §3.4:
    /// its backbone names, background then 80 classes) and written as MS R-CNN's architecture; with
    /// <paramref name="maskIou"/>, a MaskIoU head of hashed weights too.
    /// </summary>
    internal static (Image Image, string File)? MaskRcnnBenchmarkCocoCase(string modelPath, bool maskIou) =>
        RenamedCocoCase(modelPath, MaskRcnnArchitectures.MsRcnn, BackboneWeights.MaskRcnnBenchmark, HeadRenaming.MaskRcnnBenchmark, "backbone.body.stem.conv1.weight",
            maskIou ? MaskIouWeights(MaskRcnnConfig.MsRcnnCoco()) : new());

    /// <summary>
    /// The fixture's torchvision model under another framework's names, written as <paramref name="architecture"/>. The
    /// stem takes that framework's input (BGR, 0–255 less the mean, std 1) as the fixture's stem took torchvision's, so
    /// the hashed weights see activations of the size they were conditioned for, not 50 times larger ones that
    /// saturate every score and leave sub-pixel boxes no IoU can compare.
    /// </summary>
    /// <param name="extra">Tensors the layout has and torchvision's model lacks; disposed here.</param>
    private static (Image Image, string File)? RenamedCocoCase(string modelPath, string architecture,
        Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> backboneNames,
        Func<IReadOnlyDictionary<string, Tensor>, Dictionary<string, Tensor>> headNames, string stemWeight, Dictionary<string, Tensor> extra) => CocoCase(meta =>
    {
        var torchvision = TorchvisionImageParityTests.ModelWeights(meta);
        var heads = headNames(torchvision.Where(p => !p.Key.StartsWith("backbone.", StringComparison.Ordinal)).ToDictionary());
        var backbone = new Dictionary<string, Tensor>(backboneNames(torchvision), StringComparer.Ordinal);
        using var stem = BgrStem(backbone[stemWeight]);
        backbone[stemWeight] = stem;
        try
        {
            TorchvisionImageParityTests.WriteModel(modelPath, architecture, backbone.Concat(heads).Concat(extra), meta, MinSize, MaxSize);
        }
        finally
        {
            foreach (var t in torchvision.Values.Concat(heads.Values).Concat(extra.Values)) t.Dispose();
        }
    });

    /// <summary>
    /// A MaskIoU head of hashed weights: uniform with variance 1 / fan-in, so activations keep their size through the
    /// ReLUs, and the IoU bias around 0.5, so the mask scores are neither the box scores nor near zero.
    /// </summary>
    private static Dictionary<string, Tensor> MaskIouWeights(MaskRcnnConfig config)
    {
        var names = config.Flavour.HeadNames;
        int channels = config.FeatureChannels, hidden = 1024;
        var layers = new List<(string Name, int[] Shape)>();
        for (int i = 1; i <= 4; i++) layers.Add((names.MaskIouConv(i), [channels, i == 1 ? channels + 1 : channels, 3, 3]));
        layers.Add((names.MaskIouFc1, [hidden, channels * 7 * 7]));
        layers.Add((names.MaskIouFc2, [hidden, hidden]));
        layers.Add((names.MaskIou, [config.ClassLogits, hidden]));
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, shape) in layers)
        {
            int fanIn = shape.Skip(1).Aggregate(1, (a, b) => a * b);
            double bound = Math.Sqrt(3.0 / fanIn);
            weights[name + ".weight"] = Tensor.FromArray(HashedWeights.Uniform(name + ".weight", shape.Aggregate(1L, (a, b) => a * b), bound), shape);
            var bias = HashedWeights.Uniform(name + ".bias", shape[0], bound);
            if (name == names.MaskIou) bias = [.. bias.Select(b => b + 0.5f)];
            weights[name + ".bias"] = Tensor.FromArray(bias, shape[0]);
        }
        return weights;
    }

    /// <summary>
    /// A torchvision stem [O, 3 RGB, k, k] on (v / 255 − mean) / std as one on BGR v − 255·mean: the input channels
    /// reversed and each divided by 255·std (detectron2's means are torchvision's times 255, maskrcnn-benchmark's near them).
    /// </summary>
    private static Tensor BgrStem(Tensor torchvision)
    {
        int outputs = torchvision.Shape[0], plane = torchvision.Shape[2] * torchvision.Shape[3];
        var std = DetectionFlavour.Torchvision.PixelStd;
        var from = torchvision.AsSpan<float>();
        var to = new float[from.Length];
        for (int o = 0; o < outputs; o++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < plane; i++)
                    to[(o * 3 + c) * plane + i] = from[(o * 3 + 2 - c) * plane + i] / (255f * std[2 - c]);
        return Tensor.FromArray(to, torchvision.Shape.ToArray());
    }

    private static (Image Image, string File)? CocoCase(Action<IReadOnlyDictionary<string, string>> writeModel)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_coco_image.safetensors"));
        string? file = SharedData.File(fixture.Metadata["image"]);
        if (file is null) return null;
        writeModel(fixture.Metadata);
        return (ImageFile.Read(file), file);
    }

    /// <summary>The model file with fewer proposals and detections per image than torchvision's 1000 and 100, compiled for inference.</summary>
    internal static MaskRcnnModel Load(string path, Device device, InferencePrecision precision = InferencePrecision.Fp32) =>
        Load(path, device, TestSizes, precision);

    /// <summary>This test's proposals and detections per image.</summary>
    private static MaskRcnnConfig TestSizes(MaskRcnnConfig heads) => heads with { RpnPostNmsTopK = Proposals, DetectionsPerImage = Detections };

    /// <summary>The model file with its heads' test-time settings changed by <paramref name="heads"/>, compiled for inference.</summary>
    internal static MaskRcnnModel Load(string path, Device device, Func<MaskRcnnConfig, MaskRcnnConfig> heads,
        InferencePrecision precision = InferencePrecision.Fp32)
    {
        var setup = MaskRcnnModel.Inspect(path);
        setup = setup with { Heads = heads(setup.Heads) };
        using var file = SafetensorsFile.Open(path);
        using var weights = Float32Weights.Load(file);
        var model = MaskRcnnModel.Create(setup, weights.Tensors, device, path);
        model.CompileForInference(precision);
        return model;
    }
}
