using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Fcos;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// AdelaiDet's cut that keeps ties, on the emulated device against <see cref="FcosPostprocess"/> on the same maps: two
/// levels of small boxes that no NMS merges, scored by class-0 logits chosen so that ties meet the cut to 5, in 10 slots.
/// </summary>
public class DeviceFcosTiedCutTests
{
    private static readonly (int H, int W)[] Sizes = [(6, 8), (3, 4)];
    private static readonly FcosConfig Config = new FcosConfig(Classes: 2, DetectionsPerImage: 5, Channels: 8) { KeepTiesAtCut = true };

    [Fact]
    public void TiesWithinTheSlotsAreKeptAsTheHostKeepsThem()
    {
        // Level 0's locations 0–3 score apart, 4–6 tie at the fifth place, the rest below; level 1 has no candidate.
        var (host, device) = Run((level, p) => level == 0 ? 2f - 0.05f * (p <= 6 ? Math.Min(p, 4) : p) : -6f);
        Assert.Equal(7, host.Detections.Count);
        Assert.True(device.Capacity >= 7);
        Assert.Equal(7, device.Kept);
        Assert.Equal(7, device.Count);
        // Tied detections may come in either order: match each device slot to the host's detection at its location.
        for (int i = 0; i < device.Count; i++)
        {
            int j = Array.IndexOf(host.Locations, (int)device.Locations[i]);
            Assert.True(j >= 0 && host.Levels[j] == 0, $"slot {i}'s location {device.Locations[i]} is none of the host's");
            Assert.Equal(host.Detections.Scores[j], device.Scores[i]);
            Assert.Equal(host.Detections.Boxes.AsSpan(j * 4, 4).ToArray(), device.Boxes.AsSpan(i * 4, 4).ToArray());
        }
    }

    [Fact]
    public void TiesPastTheSlotsAreCountedBeyondThem()
    {
        // Every location of both levels scores the same: the cut to 5 keeps all 60.
        var (host, device) = Run((_, _) => 1f);
        Assert.Equal(Sizes.Sum(s => s.H * s.W), host.Detections.Count);
        Assert.Equal(host.Detections.Count, device.Kept);
        Assert.Equal(device.Capacity, device.Count);
    }

    /// <summary>What the device postprocess gave, copied to the host.</summary>
    private sealed record DeviceResult(int Capacity, long Kept, long Count, float[] Boxes, float[] Scores, long[] Locations);

    /// <summary>
    /// Both postprocesses on maps whose class-0 logit at a level's location is <paramref name="logit"/> (class 1: −6), with
    /// centre-ness logits 0 and distances of 3 pixels (6-pixel boxes, which never overlap enough for NMS).
    /// </summary>
    private static (FcosDetections Host, DeviceResult Device) Run(Func<int, int, float> logit)
    {
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var scope = TensorScope.Begin();
        var levels = Sizes.Select((s, l) =>
        {
            int hw = s.H * s.W;
            var logits = Enumerable.Range(0, 2 * hw).Select(i => i < hw ? logit(l, i) : -6f).ToArray();
            return new FcosLevelOutput(Upload(device, logits, 1, 2, s.H, s.W), Upload(device, Enumerable.Repeat(3f, 4 * hw).ToArray(), 1, 4, s.H, s.W),
                Upload(device, new float[hw], 1, 1, s.H, s.W));
        }).ToList();
        var host = new FcosPostprocess(Config).RunTraced(levels)[0];
        using var postprocess = new DeviceFcosPostprocess(Config);
        var found = postprocess.Run(levels, 0);
        var d = found.Detections;
        return (host, new DeviceResult(postprocess.Capacity, found.Kept.ToArray<long>()[0], d.Boxes.Count.ToArray<long>()[0], d.Boxes.Boxes.ToArray<float>(),
            d.Scores.ToArray<float>(), found.Locations.ToArray<long>()));
    }

    private static Tensor Upload(Device device, float[] values, params int[] shape)
    {
        using var host = Tensor.FromArray(values, shape);
        return host.To(device);
    }
}
