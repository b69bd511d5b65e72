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
/// The device-resident BlendMask pipeline on the emulated device: the 550_R_50_3x parity fixture's model (its hashed
/// weights under the released key names) segments the fixture's real COCO image as the CPU does, every instance, with
/// at most two copies back — so the image did not fall back to the host path. The image is resized to a 128-pixel
/// short side and FCOS keeps 100 candidates per level and 10 detections in 20 slots (upstream: 550, 1000 and 100).
/// The 550 model's three shared FCOS tower convs on P3–P6 stand for the R_50_1x model's eight on P3–P7, whose FCOS
/// stage took 187 of 210 s on the emulated device (with the same pipeline and result, at load average 200).
/// </summary>
public class BlendMaskDevicePipelineTests(ITestOutputHelper output)
{

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithTwoCopiesBack()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("blendmask_550_R_50_3x.safetensors"));
        if (SharedData.File(fixture.Metadata["image"]) is not { } file) return;
        var image = ImageFile.Read(file);
        var architecture = BlendMaskArchitecture.Named(fixture.Metadata["architecture"]);
        var weights = HashedWeights.LoadAllWithOffsets(fixture.Metadata, "backbone.", "proposal_generator.", "top_layer.", "basis_module.");
        try
        {
            IReadOnlyList<SegmentedInstance> expected;
            using (var cpu = Small(architecture, weights, Device.Cpu)) expected = cpu.Segment([image])[0];
            Assert.True(expected.Count >= 5, $"the CPU found {expected.Count} instances, too few to compare the device's against");

            using var runtime = new EmulatedRuntime();
            var device = Device.ForRuntime(runtime);
            using var model = Small(architecture, weights, device);
            DeviceSegmentationCheck.Assert(output, runtime, device, stages => model.Segment([image], stages)[0], expected, image, file, minMatched: expected.Count);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>The whole model at the test's input size and FCOS counts, compiled for inference.</summary>
    private static BlendMaskModel Small(BlendMaskArchitecture architecture, Dictionary<string, Tensor> weights, Device device) =>
        BlendMaskModel.Load(new ParameterStore(weights, device), "hashed BlendMask weights", architecture,
            architecture.Preprocess with { MinSize = 128, MaxSize = 213 }, architecture.Fcos with { PreNmsTopN = 100, DetectionsPerImage = 10 });
}
