using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Bcnet;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;
using BcnetModel = NativeSeg.Models.Bcnet.Bcnet;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device-resident BCNet FCOS pipeline on the emulated device: a real COCO image segmented by the BCNet
/// segmenter tests' model (the fixture's hashed heads on the hashed detectron2 R50 and a hashed FPN, at the FCOS
/// config's 0.03 threshold) gives the CPU's instances, every one of them, with at most two copies back. The image is
/// resized to a 128-pixel short side and the model keeps 100 candidates per level and 10 detections (upstream: 600
/// for R50, 1000 and 100): the emulated device runs the per-level (location, class) grids thread by thread, so this
/// keeps the test to a few minutes on a busy two-core machine.
/// </summary>
public class BcnetDevicePipelineTests(ITestOutputHelper output)
{
    private const int MinSize = 128, MaxSize = 213, Candidates = 100, Detections = 10;

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithTwoCopiesBack()
    {
        // The Mask R-CNN device test's image, so both pipelines are held to the same picture.
        string relative;
        using (var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_coco_image.safetensors"))) relative = fixture.Metadata["image"];
        string? file = SharedData.File(relative);
        if (file is null) return;
        var image = ImageFile.Read(file);

        using var fx = new BcnetFixture();
        var fpn = new List<Tensor>();
        var weights = fx.WholeModel(fpn);
        try
        {
            IReadOnlyList<SegmentedInstance> expected;
            using (var cpu = Load(weights, fx.Channels, Device.Cpu)) expected = cpu.Segment([image])[0];

            Assert.True(expected.Count > Detections / 2, $"the CPU found {expected.Count} instances, too few to compare the device's against");
            using var runtime = new EmulatedRuntime();
            var device = Device.ForRuntime(runtime);
            using var model = Load(weights, fx.Channels, device);
            DeviceSegmentationCheck.Assert(output, runtime, device, stages => model.Segment([image], stages)[0], expected, image, file, minMatched: expected.Count);
        }
        finally
        {
            foreach (var t in fpn) t.Dispose();
        }
    }

    /// <summary>The whole model at a small test size, candidate and detection count, compiled for inference.</summary>
    private static BcnetModel Load(Dictionary<string, Tensor> weights, int channels, Device device)
    {
        var config = new FcosConfig(Channels: channels, PreNmsTopN: Candidates, DetectionsPerImage: Detections);
        var preprocess = BcnetArchitecture.R50.Preprocess with { MinSize = MinSize, MaxSize = MaxSize };
        return BcnetModel.Load(new ParameterStore(weights, device), device, "hashed BCNet weights", channels, BcnetArchitecture.R50, config, preprocess);
    }
}
