using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Fcos;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device FCOS postprocess uploads its location centres (and the distance signs and location indices) on the first image of a set of map
/// sizes only: a second image of the same sizes gives the same detections with no host-to-device copy at all, maps of
/// another size upload their own.
/// </summary>
public class DeviceFcosCentreUploadTests
{
    private const int Classes = 3;

    private static readonly (int H, int W)[] Levels = [(6, 8), (3, 4), (2, 2)];

    [Fact]
    public void CentresAreUploadedOncePerSetOfMapSizes()
    {
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var postprocess = new DeviceFcosPostprocess(new FcosConfig(Classes: Classes, DetectionsPerImage: 20, Channels: 8));
        using var scope = TensorScope.Begin();
        var rng = new Random(9);
        var levels = Outputs(rng, device, Levels);

        var before = runtime.Traffic.Counts;
        var first = postprocess.Run(levels, 0).Detections;
        var firstUploads = (runtime.Traffic.Counts - before).HostToDevice;
        before = runtime.Traffic.Counts;
        var second = postprocess.Run(levels, 0).Detections;
        var secondUploads = (runtime.Traffic.Counts - before).HostToDevice;

        // The centres of each level, the distance signs and every level's location indices.
        Assert.Equal(Levels.Length + 2, firstUploads);
        Assert.Equal(0, secondUploads);
        Assert.True(first.Boxes.Count.ToArray<long>()[0] > 0, "no detection, so the comparison shows nothing");
        Assert.Equal(first.Boxes.Count.ToArray<long>(), second.Boxes.Count.ToArray<long>());
        Assert.Equal(first.Boxes.Boxes.ToArray<float>(), second.Boxes.Boxes.ToArray<float>());
        Assert.Equal(first.Scores.ToArray<float>(), second.Scores.ToArray<float>());

        postprocess.Run(Outputs(rng, device, [(4, 8), (2, 4), (1, 2)]), 0);
        Assert.Equal(2, postprocess.CachedShapeCount);
    }

    /// <summary>Logits that put a few locations above the threshold, distances of a few pixels, centerness logits about 0.</summary>
    private static List<FcosLevelOutput> Outputs(Random rng, Device device, IEnumerable<(int H, int W)> sizes) =>
        [.. sizes.Select(s => new FcosLevelOutput(
            Values(rng, device, v => v * 2 - 3, 1, Classes, s.H, s.W),
            Values(rng, device, v => 2 + v * 20, 1, 4, s.H, s.W),
            Values(rng, device, v => v - 0.5, 1, 1, s.H, s.W)))];

    private static Tensor Values(Random rng, Device device, Func<double, double> value, params int[] shape)
    {
        var values = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)value(rng.NextDouble());
        using var host = Tensor.FromArray(values, shape);
        return host.To(device);
    }
}
