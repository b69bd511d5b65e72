using System.Diagnostics;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Layers;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device-resident Mask R-CNN pipeline on the emulated device: a real COCO image segmented by torchvision's
/// R50-FPN (hashed weights, every detection kept) gives the CPU's instances, with at most three copies back.
/// The image is resized to a 256-pixel short side and the model keeps 300 proposals and 50 detections (torchvision:
/// 800, 1000 and 100), so the emulated kernels finish in a few minutes on a busy two-core machine.
/// </summary>
public class DevicePipelineTests(ITestOutputHelper output)
{
    private const int MinSize = 256, MaxSize = 427, Proposals = 300;
    internal const int Detections = 50;

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithThreeCopiesBack()
    {
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        if (CocoCase(path) is not (Image image, string file)) return;

        IReadOnlyList<SegmentedInstance> expected;
        using (var cpu = Load(path, Device.Cpu)) expected = cpu.Segment([image])[0];

        // A runtime of its own, so no other test's copies are counted.
        using var runtime = new EmulatedRuntime();
        using var model = Load(path, Device.ForRuntime(runtime));
        // The stage clock shows where emulated time goes; each of its laps is one synchronisation, nothing else.
        var stages = new StageClock(model.Device);
        var clock = Stopwatch.StartNew();
        stages.Restart();
        var before = runtime.Traffic.Counts;
        var ours = model.Segment([image], stages)[0];
        var traffic = runtime.Traffic.Counts - before;
        foreach (var (stage, ms) in stages.Laps) output.WriteLine($"{stage}: {ms:F0} ms");
        long pipelineSyncs = traffic.Synchronizations - stages.Laps.Count;
        output.WriteLine($"{image.Width}x{image.Height} at {MinSize}: {ours.Count} instances on the emulated device in {clock.Elapsed.TotalSeconds:F1} s; {traffic} ({pipelineSyncs} without the clock's)");

        Assert.True(expected.Count == Detections, $"the CPU found {expected.Count} instances, not the {Detections} a score threshold of 0 keeps");
        Assert.True(traffic.DeviceToHost <= 3, $"the device pipeline copied to the host {traffic.DeviceToHost} times for one image ({traffic})");
        Assert.True(pipelineSyncs <= 3, $"the device pipeline waited for the device {pipelineSyncs} times for one image ({traffic})");
        var reference = expected.Select(i => new ReferenceDetection([i.X1, i.Y1, i.X2, i.Y2], i.Score, i.CategoryId, i.Mask.ToRowMajor())).ToList();
        DetectionMatching.AssertParity(reference, ours, image.Width, image.Height, file);
        Assert.Equal(expected.Count, ours.Count);
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

    /// <summary>The model file with fewer proposals and detections than torchvision's, compiled for inference.</summary>
    internal static MaskRcnnModel Load(string path, Device device, InferencePrecision precision = InferencePrecision.Fp32)
    {
        var setup = MaskRcnnModel.Inspect(path);
        setup = setup with { Heads = setup.Heads with { RpnPostNmsTopK = Proposals, DetectionsPerImage = Detections } };
        using var file = SafetensorsFile.Open(path);
        using var weights = Float32Weights.Load(file);
        var model = MaskRcnnModel.Create(setup, weights.Tensors, device, path);
        model.CompileForInference(precision);
        return model;
    }
}
