using NativeSeg.Engine.Devices;
using NativeSeg.Cli;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Emulation;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// `--precision bf16` on the CPU against fp32: the real COCO image and torchvision R50-FPN (hashed weights, 256-pixel short
/// side, 50 detections) of <see cref="HalfPrecisionPipelineTests"/>, matched by its criteria: box IoU ≥ 0.98 (that of
/// <see cref="DetectionMatching"/>), |Δscore| ≤ 0.02, mask IoU ≥ 0.9.
/// </summary>
public class Bf16PrecisionTests(ITestOutputHelper output)
{
    // 30 of 50 (60%) were measured: with hashed weights a bf16 rounding anywhere reorders near-equal proposals. The floor
    // catches a kernel or packing fault, which loses nearly every match.
    private const double MaxScoreDifference = 0.02, MinMaskIou = 0.9, MinMatchRate = 0.55;

    [Fact]
    public void Bf16MatchesTheFp32TopFiftyDetectionsOfACocoImage()
    {
        if (Bf16PanelKernel.Unavailable is { } why)
        {
            output.WriteLine($"not run: {why}");
            return;
        }
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        if (DevicePipelineTests.CocoCase(path) is not (Image image, _))
        {
            output.WriteLine("not run: the COCO images of ../shared/data are absent");
            return;
        }

        IReadOnlyList<SegmentedInstance> fp32, bf16;
        using (var model = DevicePipelineTests.Load(path, Device.Cpu)) fp32 = model.Segment([image])[0];
        using (var model = DevicePipelineTests.Load(path, Device.Cpu, InferencePrecision.Bf16)) bf16 = model.Segment([image])[0];

        var (matched, top, outcome) = DetectionMatching.MatchTop(fp32, bf16, DevicePipelineTests.Detections, image.Width, image.Height, MaxScoreDifference, MinMaskIou);
        double rate = (double)matched / top;
        double largestScoreChange = fp32.Zip(bf16, (a, b) => Math.Abs(a.Score - b.Score)).Max();
        output.WriteLine($"bf16 on the CPU matched {matched} of fp32's top {top} detections ({rate:P1}): box IoU >= 0.98, "
            + $"|score difference| <= {MaxScoreDifference}, mask IoU >= {MinMaskIou}; {outcome.Matched} matched by box and score, lowest mask IoU {outcome.MinMaskIou:F4}");
        Assert.True(top == DevicePipelineTests.Detections, $"fp32 found {top} instances, not {DevicePipelineTests.Detections}");
        Assert.True(largestScoreChange > 0, "bf16 gave fp32's scores exactly: its convolutions did not run in bf16");
        Assert.True(rate >= MinMatchRate, $"bf16 matched only {matched} of fp32's top {top} detections ({rate:P1})");
    }

    [Fact]
    public void CompilingForBf16OnADeviceIsRefused()
    {
        string model = DefaultModel.Find() ?? throw new FileNotFoundException("weights/default.safetensors not found from the test's folder");
        var watch = TensorLeakTracker.Begin();
        using (var runtime = new EmulatedRuntime())
        {
            var error = Assert.Throws<NotSupportedException>(() => MaskRcnnModel.Load(model, Device.ForRuntime(runtime), precision: InferencePrecision.Bf16));
            Assert.Contains("bf16 inference runs on the CPU only", error.Message);
        }
        TensorTracking.AssertNoLeaks(watch);
    }
}
