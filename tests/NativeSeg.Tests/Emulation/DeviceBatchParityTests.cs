using System.Diagnostics;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// `segment --batch 4` on the emulated device: one forward of four differently shaped images through the
/// device-resident pipeline gives per image what torchvision 0.14 gives for the same batch (fixture from
/// tests/reference/make_maskrcnn_batch4_fixture.py: zero padding to the batch's largest size rounded up to 32
/// included), with two copies back for the whole batch; that torchvision's batch differs from each image alone is
/// <see cref="TorchvisionBatchParityTests.TorchvisionsBatchDiffersFromEachImageAlone"/>. The fixture's sizes are
/// small (a 96-pixel short side, 250 RPN candidates per level, 100 proposals and 20 detections per image) so the
/// emulated kernels run the batch in a few minutes (9 min on a machine loaded to an average of 60–120).
/// </summary>
public class DeviceBatchParityTests(ITestOutputHelper output)
{
    [Fact]
    public void BatchOfFourMatchesTorchvisionsBatchWithTwoCopiesBack()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture(TorchvisionBatchParityTests.FourImages));
        var keys = TorchvisionBatchParityTests.Keys(fixture);
        var inputs = keys.Select(key => TorchvisionBatchParityTests.Pixels(fixture, key)).ToList();
        using var temp = new TempFolder();
        // A runtime of its own, so no other test's copies are counted.
        using var runtime = new EmulatedRuntime();
        using var model = TorchvisionBatchParityTests.Model(fixture, temp.File("model.safetensors"), Device.ForRuntime(runtime));
        // The stage clock shows where emulated time goes; each of its laps is one synchronisation, nothing else.
        var stages = new StageClock(model.Device);
        var clock = Stopwatch.StartNew();
        stages.Restart();
        var before = runtime.Traffic.Counts;
        var ours = model.Segment(inputs, stages);
        var traffic = runtime.Traffic.Counts - before;
        foreach (var (stage, ms, _) in stages.Laps) output.WriteLine($"{stage}: {ms:F0} ms");
        long pipelineSyncs = traffic.Synchronizations - stages.Laps.Count;
        output.WriteLine($"{inputs.Count} images in one batch on the emulated device in {clock.Elapsed.TotalSeconds:F1} s; {traffic} ({pipelineSyncs} without the clock's)");

        Assert.True(traffic.DeviceToHost <= 2, $"the device pipeline copied to the host {traffic.DeviceToHost} times for a batch of {inputs.Count} ({traffic})");
        Assert.True(pipelineSyncs <= 2, $"the device pipeline waited for the device {pipelineSyncs} times for a batch of {inputs.Count} ({traffic})");
        for (int n = 0; n < inputs.Count; n++)
        {
            var (width, height) = (inputs[n].Width, inputs[n].Height);
            var batch = TorchvisionImageParityTests.RleReference(fixture, keys[n] + ".batch.", height, width);
            DetectionMatching.AssertParity(batch, ours[n], width, height, keys[n] + " in the batch of four");

            // Where torchvision's batch differs from the image alone, ours must differ from it too: the padding is seen.
            var alone = TorchvisionImageParityTests.RleReference(fixture, keys[n] + ".alone.", height, width);
            var framework = DetectionMatching.Match(alone, TorchvisionBatchParityTests.AsInstances(batch, height, width), width, height);
            var mine = DetectionMatching.Match(alone, ours[n], width, height);
            output.WriteLine($"{keys[n]} {width}x{height}: of {alone.Count} detections alone, torchvision's batch matches {framework.Matched}, ours {mine.Matched}");
            if (framework.Matched < 0.95 * framework.Total)
                Assert.True(mine.Matched < 0.95 * mine.Total, $"{keys[n]}: torchvision's batch differs from the image alone, ours matches it ({mine.Matched} of {mine.Total})");
        }
    }
}
