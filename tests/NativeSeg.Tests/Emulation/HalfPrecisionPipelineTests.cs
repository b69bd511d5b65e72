using NativeSeg.Cli;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;
using Xunit.Abstractions;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// `--precision fp16` on the emulated device against fp32: the same real COCO image and torchvision R50-FPN (hashed
/// weights) as <see cref="DevicePipelineTests"/>, at its reduced size. The emulated cuBLAS rounds as cublasGemmEx does
/// (half operands, float sums, half results), so the rounding under test is the real path's.
/// </summary>
public class HalfPrecisionPipelineTests(ITestOutputHelper output)
{
    // The box IoU of at least 0.98 is DetectionMatching's.
    private const double MaxScoreDifference = 0.02, MinMaskIou = 0.9, MinMatchRate = 0.95;

    [Fact]
    public void Fp16MatchesTheFp32TopFiftyDetectionsOfACocoImage()
    {
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        if (DevicePipelineTests.CocoCase(path) is not (Image image, _)) return;

        IReadOnlyList<SegmentedInstance> fp32;
        using (var cpu = DevicePipelineTests.Load(path, Device.Cpu)) fp32 = cpu.Segment([image])[0];
        using var runtime = new EmulatedRuntime();
        using var model = DevicePipelineTests.Load(path, Device.ForRuntime(runtime), InferencePrecision.Fp16);
        var fp16 = model.Segment([image])[0];

        // Every convolution and linear layer ran the half path: its epilogue widens a half result.
        long halfEpilogues = runtime.LaunchCounts.GetValueOrDefault(("Conv2d/Conv2d.cu", "bias_activation_f16_f32"));
        Assert.True(halfEpilogues >= 70, $"only {halfEpilogues} half-precision convolutions or linear layers ran");

        var (matched, top, outcome) = DetectionMatching.MatchTop(fp32, fp16, DevicePipelineTests.Detections, image.Width, image.Height, MaxScoreDifference, MinMaskIou);
        double rate = (double)matched / top;
        output.WriteLine($"fp16 on the emulated device matched {matched} of fp32's top {top} detections ({rate:P1}): box IoU >= 0.98, "
            + $"|score difference| <= {MaxScoreDifference}, mask IoU >= {MinMaskIou}; {outcome.Matched} matched by box and score, lowest mask IoU {outcome.MinMaskIou:F4}");
        Assert.True(top == DevicePipelineTests.Detections, $"fp32 found {top} instances, not {DevicePipelineTests.Detections}");
        Assert.True(rate >= MinMatchRate, $"fp16 matched only {matched} of fp32's top {top} detections ({rate:P1})");
    }

    [Fact]
    public void CompilingForFp16OnTheCpuIsRefused()
    {
        string model = DefaultModel.Find() ?? throw new FileNotFoundException("weights/default.safetensors not found from the test's folder");
        var watch = TensorLeakTracker.Begin();
        var error = Assert.Throws<NotSupportedException>(() => MaskRcnnModel.Load(model, Device.Cpu, precision: InferencePrecision.Fp16));
        Assert.Contains("fp16 inference runs on a CUDA device only", error.Message);
        TensorTracking.AssertNoLeaks(watch);
    }
}
