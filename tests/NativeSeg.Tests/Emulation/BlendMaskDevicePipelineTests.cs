using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.BlendMask;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Coco;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models;
using Xunit.Abstractions;
using BlendMaskModel = NativeSeg.Models.BlendMask.BlendMask;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device-resident BlendMask pipeline on the emulated device: the R_50_1x parity fixture's model (its hashed
/// weights under the released key names) segments the fixture's real COCO image as the CPU does, every instance, with
/// at most two copies back — so no image fell back to the host path. The image is resized to a 128-pixel short side
/// and FCOS keeps 100 candidates per level and 10 detections (upstream: 800, 1000 and 100), which keeps the emulated
/// device's thread-by-thread grids to a minute or so on a busy two-core machine.
/// </summary>
public class BlendMaskDevicePipelineTests(ITestOutputHelper output)
{
    private const int MinSize = 128, MaxSize = 213, Candidates = 100, Detections = 10;

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithTwoCopiesBack()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("blendmask_R_50_1x.safetensors"));
        var meta = fixture.Metadata;
        string? file = SharedData.File(meta["image"]);
        if (file is null) return;
        var image = ImageFile.Read(file);

        var weights = HashedWeights.LoadAllWithOffsets(meta, "backbone.", "proposal_generator.", "top_layer.", "basis_module.");
        try
        {
            var architecture = BlendMaskArchitecture.Named(meta["architecture"]);
            IReadOnlyList<SegmentedInstance> expected;
            using (var cpu = Load(weights, architecture, Device.Cpu)) expected = cpu.Segment([image])[0];
            Assert.True(expected.Count > Detections / 2, $"the CPU found {expected.Count} instances, too few to compare the device's against");

            using var runtime = new EmulatedRuntime();
            var device = Device.ForRuntime(runtime);
            using var model = Load(weights, architecture, device);
            DeviceSegmentationCheck.Assert(output, runtime, device, stages => model.Segment([image], stages)[0], expected, image, file, minMatched: expected.Count);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>The whole model at the test's size, candidate and detection counts, compiled for inference.</summary>
    private static BlendMaskModel Load(Dictionary<string, Tensor> weights, BlendMaskArchitecture architecture, Device device)
    {
        var preprocess = architecture.Preprocess with { MinSize = MinSize, MaxSize = MaxSize };
        var fcos = architecture.Fcos with { PreNmsTopN = Candidates, DetectionsPerImage = Detections };
        return BlendMaskModel.Load(new ParameterStore(weights, device), "hashed BlendMask weights", architecture, preprocess, fcos);
    }
}
