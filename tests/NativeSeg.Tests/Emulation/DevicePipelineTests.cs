using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Layers;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device-resident Mask R-CNN pipeline on the emulated device: a real COCO image segmented by torchvision's
/// R50-FPN (hashed weights, every detection kept) gives the CPU's instances, with at most two copies back.
/// The image is resized to a 256-pixel short side and the model keeps 300 proposals and 50 detections (torchvision:
/// 800, 1000 and 100), so the emulated kernels finish in a few minutes on a busy two-core machine.
/// </summary>
public class DevicePipelineTests(ITestOutputHelper output)
{
    private const int MinSize = 256, MaxSize = 427, Proposals = 300;
    internal const int Detections = 50;

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithTwoCopiesBack()
    {
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        if (CocoCase(path) is not (Image image, string file)) return;

        IReadOnlyList<SegmentedInstance> expected;
        using (var cpu = Load(path, Device.Cpu)) expected = cpu.Segment([image])[0];

        Assert.True(expected.Count == Detections, $"the CPU found {expected.Count} instances, not the {Detections} a score threshold of 0 keeps");
        using var runtime = new EmulatedRuntime();
        using var model = Load(path, Device.ForRuntime(runtime));
        DeviceSegmentationCheck.Assert(output, runtime, model.Device, stages => model.Segment([image], stages)[0], expected, image, file);
    }

    /// <summary>
    /// The fixture's real COCO image (and its path), with the R50-FPN model written to <paramref name="modelPath"/> at this
    /// test's sizes; null when the shared data is absent.
    /// </summary>
    internal static (Image Image, string File)? CocoCase(string modelPath)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_coco_image.safetensors"));
        string? file = SharedData.File(fixture.Metadata["image"]);
        if (file is null) return null;
        TorchvisionImageParityTests.WriteModel(modelPath, fixture.Metadata, MinSize, MaxSize);
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
