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
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device-resident Mask R-CNN pipeline on the emulated device: a real COCO image segmented by torchvision's
/// R50-FPN (hashed weights, every detection kept), and by the same model in detectron2's layout and flavour, gives
/// the CPU's instances, with at most two copies back.
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

    /// <param name="cocoCase">Writes the model to the path it is given; returns the image, or null when the shared data is absent.</param>
    /// <param name="enough">Whether the CPU found enough instances (of the <see cref="Detections"/> kept) for the comparison to mean something.</param>
    private void AssertDeviceAgrees(Func<string, (Image Image, string File)?> cocoCase, DetectionFlavour flavour, Func<int, bool> enough)
    {
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        if (cocoCase(path) is not (Image image, string file)) return;

        IReadOnlyList<SegmentedInstance> expected;
        using (var cpu = Load(path, Device.Cpu))
        {
            Assert.Equal(flavour, cpu.Setup.Heads.Flavour);
            expected = cpu.Segment([image])[0];
        }
        Assert.True(enough(expected.Count), $"the CPU found {expected.Count} instances of the {Detections} a score threshold of 0 keeps");

        using var runtime = new EmulatedRuntime();
        using var model = Load(path, Device.ForRuntime(runtime));
        DeviceSegmentationCheck.Assert(output, runtime, model.Device, stages => model.Segment([image], stages)[0], expected, image, file);
    }

    /// <summary>
    /// The fixture's real COCO image (and its path), with the R50-FPN model written to <paramref name="modelPath"/> at this
    /// test's sizes; null when the shared data is absent.
    /// </summary>
    internal static (Image Image, string File)? CocoCase(string modelPath) =>
        CocoCase(meta => TorchvisionImageParityTests.WriteModel(modelPath, meta, MinSize, MaxSize));

    /// <summary>
    /// As <see cref="CocoCase(string)"/>, with the model's tensors renamed to detectron2's layout (spec §2.3: its
    /// backbone names, 80 classes with background last) and written as detectron2's architecture. The stem takes
    /// detectron2's input (BGR, 0–255 less the mean, std 1) as the fixture's stem took torchvision's, so the hashed
    /// weights see activations of the size they were conditioned for, not 50 times larger ones that saturate
    /// every score and leave sub-pixel boxes no IoU can compare.
    /// </summary>
    internal static (Image Image, string File)? Detectron2CocoCase(string modelPath) => CocoCase(meta =>
    {
        var torchvision = TorchvisionImageParityTests.ModelWeights(meta);
        var heads = Detectron2Renaming.Heads(torchvision.Where(p => !p.Key.StartsWith("backbone.", StringComparison.Ordinal)).ToDictionary());
        var backbone = new Dictionary<string, Tensor>(BackboneWeights.Detectron2(torchvision), StringComparer.Ordinal);
        using var stem = Detectron2Stem(backbone[StemWeight]);
        backbone[StemWeight] = stem;
        try
        {
            TorchvisionImageParityTests.WriteModel(modelPath, MaskRcnnArchitectures.Detectron2, backbone.Concat(heads), meta, MinSize, MaxSize);
        }
        finally
        {
            foreach (var t in torchvision.Values.Concat(heads.Values)) t.Dispose();
        }
    });

    private const string StemWeight = "backbone.bottom_up.stem.conv1.weight";

    /// <summary>
    /// A torchvision stem [O, 3 RGB, k, k] on (v / 255 − mean) / std as a detectron2 one on BGR v − 255·mean: the
    /// input channels reversed and each divided by 255·std (detectron2's means are torchvision's times 255).
    /// </summary>
    private static Tensor Detectron2Stem(Tensor torchvision)
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
        Load(path, device, heads => heads with { RpnPostNmsTopK = Proposals, DetectionsPerImage = Detections }, precision);

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
