using System.Diagnostics;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// What the device pipeline tests hold a model to: one image segmented on an emulated runtime of the test's own (so no
/// other test's copies are counted) with at most two copies back and two waits besides the stage clock's, and
/// the CPU's instances, matched as the parity tests match them, nearly all with the CPU's RLE exactly.
/// </summary>
internal static class DeviceSegmentationCheck
{
    /// <summary>The share of the CPU's instances whose RLE a device instance must have exactly.</summary>
    private const double MinIdenticalRles = 0.9;

    /// <param name="device">The model's device, on <paramref name="runtime"/>.</param>
    /// <param name="segment">Segments the image on the device, timing its stages on the clock it is given.</param>
    /// <param name="expected">The CPU's instances of the image.</param>
    /// <param name="what">The image's file, named in failures.</param>
    /// <param name="minMatched">How many of the CPU's instances must match (95% when null).</param>
    /// <returns>The device's instances.</returns>
    public static IReadOnlyList<SegmentedInstance> Assert(ITestOutputHelper output, EmulatedRuntime runtime, Device device, Func<StageClock, IReadOnlyList<SegmentedInstance>> segment,
        IReadOnlyList<SegmentedInstance> expected, Image image, string what, int? minMatched = null)
    {
        // Each of the stage clock's laps is one synchronisation, nothing else.
        var stages = new StageClock(device);
        var clock = Stopwatch.StartNew();
        stages.Restart();
        var before = runtime.Traffic.Counts;
        var ours = segment(stages);
        var traffic = runtime.Traffic.Counts - before;
        foreach (var (stage, ms, _) in stages.Laps) output.WriteLine($"{stage}: {ms:F0} ms");
        long pipelineSyncs = traffic.Synchronizations - stages.Laps.Count;
        output.WriteLine($"{image.Width}x{image.Height}: {ours.Count} instances (CPU {expected.Count}) on the emulated device in {clock.Elapsed.TotalSeconds:F1} s; {traffic} ({pipelineSyncs} without the clock's)");

        Xunit.Assert.True(traffic.DeviceToHost <= 2, $"the device pipeline copied to the host {traffic.DeviceToHost} times for one image ({traffic})");
        Xunit.Assert.True(pipelineSyncs <= 2, $"the device pipeline waited for the device {pipelineSyncs} times for one image ({traffic})");
        var reference = expected.Select(i => new ReferenceDetection([i.X1, i.Y1, i.X2, i.Y2], i.Score, i.CategoryId, i.Mask.ToRowMajor())).ToList();
        DetectionMatching.AssertParity(reference, ours, image.Width, image.Height, what, minMatched);
        Xunit.Assert.Equal(expected.Count, ours.Count);

        // The device writes the RLE itself: run for run the CPU's, but where a pixel's probability lies within the
        // two paths' rounding of the threshold.
        int identical = expected.Count(e => ours.Any(o => o.CategoryId == e.CategoryId && o.Mask.Counts.SequenceEqual(e.Mask.Counts)));
        output.WriteLine($"{identical} of the CPU's {expected.Count} instances have a device instance with the same RLE, run for run");
        Xunit.Assert.True(identical >= MinIdenticalRles * expected.Count, $"only {identical} of the CPU's {expected.Count} instances have a device instance with the same RLE");
        return ours;
    }
}
