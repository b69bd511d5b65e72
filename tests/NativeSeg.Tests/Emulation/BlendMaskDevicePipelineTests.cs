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
using NativeSeg.Tests.Models.MaskRcnn;
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

    private const string Head = "proposal_generator.fcos_head.";

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithTwoCopiesBack() => WithModel(tie: false, (architecture, weights, image, file) =>
    {
        IReadOnlyList<SegmentedInstance> expected;
        using (var cpu = Small(architecture, weights, Device.Cpu, 100, 10)) expected = cpu.Segment([image])[0];
        Assert.True(expected.Count >= 5, $"the CPU found {expected.Count} instances, too few to compare the device's against");

        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var model = Small(architecture, weights, device, 100, 10);
        DeviceSegmentationCheck.Assert(output, runtime, device, stages => model.Segment([image], stages)[0], expected, image, file, minMatched: expected.Count);
    });

    /// <summary>
    /// With a classifier and centre-ness predictor that score every location alike, every NMS survivor ties at the cut
    /// to 5, more than its 10 slots hold: the device pipeline says so after its copies back and the image runs again on
    /// the host path, which gives the CPU's instances, all the ties included.
    /// </summary>
    [Fact]
    public void TiesPastTheSlotsRunTheImageAgainOnTheHostPath() => WithModel(tie: true, (architecture, weights, image, file) =>
    {
        IReadOnlyList<SegmentedInstance> expected;
        using (var cpu = Small(architecture, weights, Device.Cpu, 20, 5)) expected = cpu.Segment([image])[0];
        Assert.True(expected.Count > 10, $"the CPU kept {expected.Count} tied instances, which the 10 device slots hold");

        using var runtime = new EmulatedRuntime();
        using var model = Small(architecture, weights, Device.ForRuntime(runtime), 20, 5);
        var before = runtime.Traffic.Counts;
        var ours = model.Segment([image])[0];
        var traffic = runtime.Traffic.Counts - before;
        output.WriteLine($"{ours.Count} instances (CPU {expected.Count}); {traffic}");
        Assert.True(traffic.DeviceToHost > 2, $"only {traffic.DeviceToHost} copies back: the image did not run again on the host path");
        var reference = expected.Select(i => new ReferenceDetection([i.X1, i.Y1, i.X2, i.Y2], i.Score, i.CategoryId, i.Mask.ToRowMajor())).ToList();
        DetectionMatching.AssertParity(reference, ours, image.Width, image.Height, file, expected.Count);
        Assert.Equal(expected.Count, ours.Count);
    });

    /// <summary>
    /// Runs <paramref name="test"/> on the 550_R_50_3x fixture's weights and real COCO image (nothing when the shared data
    /// is absent); with <paramref name="tie"/>, class 0 scores sigmoid(4)·sigmoid(0) at every location and the others nothing.
    /// </summary>
    private static void WithModel(bool tie, Action<BlendMaskArchitecture, Dictionary<string, Tensor>, Image, string> test)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("blendmask_550_R_50_3x.safetensors"));
        if (SharedData.File(fixture.Metadata["image"]) is not { } file) return;
        var weights = HashedWeights.LoadAllWithOffsets(fixture.Metadata, "backbone.", "proposal_generator.", "top_layer.", "basis_module.");
        try
        {
            if (tie)
            {
                foreach (string name in new[] { "cls_logits.weight", "ctrness.weight", "ctrness.bias" }) weights[Head + name].AsSpan<float>().Clear();
                var bias = weights[Head + "cls_logits.bias"].AsSpan<float>();
                bias.Fill(-10f);
                bias[0] = 4f;
            }
            test(BlendMaskArchitecture.Named(fixture.Metadata["architecture"]), weights, ImageFile.Read(file), file);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>The whole model at the test's input size and FCOS counts, compiled for inference.</summary>
    private static BlendMaskModel Small(BlendMaskArchitecture architecture, Dictionary<string, Tensor> weights, Device device, int candidates, int detections) =>
        BlendMaskModel.Load(new ParameterStore(weights, device), "hashed BlendMask weights", architecture,
            architecture.Preprocess with { MinSize = 128, MaxSize = 213 }, architecture.Fcos with { PreNmsTopN = candidates, DetectionsPerImage = detections });
}
