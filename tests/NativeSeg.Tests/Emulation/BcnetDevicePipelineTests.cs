using System.Diagnostics;
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
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;
using BcnetModel = NativeSeg.Models.Bcnet.Bcnet;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device-resident BCNet FCOS pipeline on the emulated device: a real COCO image segmented by the BCNet
/// segmenter tests' model (the fixture's hashed heads on the hashed detectron2 R50 and a hashed FPN, at the FCOS
/// config's 0.03 threshold) gives the CPU's instances, with at most three copies back. The image is resized to a
/// 256-pixel short side and the model keeps 200 candidates per level and 20 detections (upstream: 600 for R50, 1000
/// and 100), so the emulated kernels finish in a few minutes on a busy two-core machine.
/// </summary>
public class BcnetDevicePipelineTests(ITestOutputHelper output)
{
    private const int MinSize = 256, MaxSize = 427, Candidates = 200, Detections = 20;

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithThreeCopiesBack()
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

            // A runtime of its own, so no other test's copies are counted.
            using var runtime = new EmulatedRuntime();
            var device = Device.ForRuntime(runtime);
            using var model = Load(weights, fx.Channels, device);
            // Each of the stage clock's laps is one synchronisation, nothing else.
            var stages = new StageClock(device);
            var clock = Stopwatch.StartNew();
            stages.Restart();
            var before = runtime.Traffic.Counts;
            var ours = model.Segment([image], stages)[0];
            var traffic = runtime.Traffic.Counts - before;
            foreach (var (stage, ms) in stages.Laps) output.WriteLine($"{stage}: {ms:F0} ms");
            long pipelineSyncs = traffic.Synchronizations - stages.Laps.Count;
            output.WriteLine($"{image.Width}x{image.Height} at {MinSize}: {ours.Count} instances (CPU {expected.Count}) on the emulated device in {clock.Elapsed.TotalSeconds:F1} s; {traffic} ({pipelineSyncs} without the clock's)");

            Assert.True(expected.Count > Detections / 2, $"the CPU found {expected.Count} instances, too few to compare the device's against");
            Assert.True(traffic.DeviceToHost <= 3, $"the device pipeline copied to the host {traffic.DeviceToHost} times for one image ({traffic})");
            Assert.True(pipelineSyncs <= 3, $"the device pipeline waited for the device {pipelineSyncs} times for one image ({traffic})");
            var reference = expected.Select(i => new ReferenceDetection([i.X1, i.Y1, i.X2, i.Y2], i.Score, i.CategoryId, i.Mask.ToRowMajor())).ToList();
            DetectionMatching.AssertParity(reference, ours, image.Width, image.Height, file, minMatched: expected.Count);
            Assert.Equal(expected.Count, ours.Count);
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
