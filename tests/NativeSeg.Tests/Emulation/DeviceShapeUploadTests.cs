using NativeSeg.Cli;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Synthetic;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// Everything the device pipeline makes on the host from shapes and capacities alone (anchors and level ids, the RoIs'
/// image indices, the boxes' scales to the original size) is uploaded on the first forward of a shape only: a second
/// forward of an image of the same size uploads the image and nothing else, copies back twice (the detections with
/// their run counts, then the runs) and gives the same instances. The default model (ResNet-18, 64 FPN channels) on a
/// 256×256 synthetic image with 200 candidates per level, 50 proposals and 10 detections keeps the two emulated
/// forwards to about a minute on a busy machine.
/// </summary>
public class DeviceShapeUploadTests(ITestOutputHelper output)
{
    private const int Side = 256;

    [Fact]
    public void SecondForwardOfTheSameShapeUploadsOnlyTheImage()
    {
        string path = DefaultModel.Find() ?? throw new FileNotFoundException("weights/default.safetensors not found from the test's folder");
        var image = new Image(Side, Side, 3, SyntheticDataset.Generate(new SyntheticOptions(1, Side, Side, 6, 6, Seed: 7), 0).Rgb);
        using var runtime = new EmulatedRuntime();
        using var model = DevicePipelineTests.Load(path, Device.ForRuntime(runtime),
            heads => heads with { RpnPreNmsTopK = 200, RpnPostNmsTopK = 50, DetectionsPerImage = 10, ScoreThreshold = 0 });

        var start = runtime.Traffic.Counts;
        var first = model.Segment([image])[0];
        var middle = runtime.Traffic.Counts;
        var second = model.Segment([image])[0];
        var (firstTraffic, secondTraffic) = (middle - start, runtime.Traffic.Counts - middle);
        output.WriteLine($"first forward: {firstTraffic}; second: {secondTraffic}");

        Assert.Equal(10, first.Count);
        Assert.Equal(1, secondTraffic.HostToDevice);
        Assert.Equal(Side * Side * 3, secondTraffic.HostToDeviceBytes);
        Assert.Equal(2, secondTraffic.DeviceToHost);
        Assert.True(firstTraffic.HostToDevice > secondTraffic.HostToDevice, $"the first forward uploaded no shape constants ({firstTraffic})");
        Assert.Equal(first.Count, second.Count);
        for (int i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i] with { Mask = second[i].Mask }, second[i]);
            Assert.Equal(first[i].Mask.Counts.ToArray(), second[i].Mask.Counts.ToArray());
        }
    }
}
