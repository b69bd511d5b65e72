using System.Diagnostics;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
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
/// </summary>
public class DevicePipelineTests(ITestOutputHelper output)
{
    /// <summary>Short side the image is resized to: a smaller input than the model's 800 keeps the emulated backbone quick.</summary>
    private const int MinSize = 320, MaxSize = 533;

    [Fact]
    public void SegmentsACocoImageAsTheCpuDoesWithThreeCopiesBack()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision_coco_image.safetensors"));
        string? file = SharedData.File(fixture.Metadata["image"]);
        if (file is null) return;
        var image = ImageFile.Read(file);
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        TorchvisionImageParityTests.WriteModel(path, fixture.Metadata, MinSize, MaxSize);

        IReadOnlyList<SegmentedInstance> expected;
        using (var cpu = MaskRcnnModel.Load(path, Device.Cpu)) expected = cpu.Segment([image])[0];

        // A runtime of its own, so no other test's copies are counted.
        using var runtime = new EmulatedRuntime();
        using var model = MaskRcnnModel.Load(path, Device.ForRuntime(runtime));
        var clock = Stopwatch.StartNew();
        var before = runtime.Traffic.Counts;
        var ours = model.Segment([image])[0];
        var traffic = runtime.Traffic.Counts - before;
        output.WriteLine($"{image.Width}x{image.Height} at {MinSize}: {ours.Count} instances on the emulated device in {clock.Elapsed.TotalSeconds:F1} s; {traffic}");

        Assert.True(expected.Count >= 50, $"the CPU found only {expected.Count} instances, too few to compare");
        Assert.True(traffic.DeviceToHost <= 3, $"the device pipeline copied to the host {traffic.DeviceToHost} times for one image ({traffic})");
        var reference = expected.Select(i => new ReferenceDetection([i.X1, i.Y1, i.X2, i.Y2], i.Score, i.CategoryId, i.Mask.ToRowMajor())).ToList();
        DetectionMatching.AssertParity(reference, ours, image.Width, image.Height, file);
        Assert.Equal(expected.Count, ours.Count);
    }
}
