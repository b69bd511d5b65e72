using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NativeSeg.Models.MaskRcnn;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device box head postprocess launches a number of kernels that grows with the images of a batch but not with
/// the classes: its class-aware NMS is one segmented NMS for the whole batch, and an image's detections do not depend
/// on the batch it is in. With three NMS launches and a row copy per class and image it took 283 launches for one image
/// of torchvision's 91 classes and 566 for two (24 s here, 2 min 19 s then, on the emulated device); now 19 and 28.
/// </summary>
public class DeviceBoxPostprocessLaunchTests(ITestOutputHelper output)
{
    /// <summary>Launches each image adds: decode, small-box mask, filter, its slice of three concatenations, take, two gathers.</summary>
    private const int PerImage = 9;

    /// <summary>Launches a batch pays once: softmax, four transposes, the NMS's three, kept scores, top-k (two at most).</summary>
    private const int PerBatch = 11;

    private const int Rows = 24;

    [Fact]
    public void LaunchesGrowWithTheImagesNotTheClassesAndImagesDoNotInteract()
    {
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        var config = MaskRcnnConfig.TorchvisionCoco() with { DetectionsPerImage = 30 };
        var postprocess = new DeviceBoxPostprocess(config);
        using var scope = TensorScope.Begin();
        var rng = new Random(3);
        (int H, int W)[] sizes = [(120, 160), (96, 200)];
        var inputs = sizes.Select(size => Inputs(rng, device, config.ClassLogits, size)).ToList();

        var (logits, deltas) = (Concat(inputs.Select(i => i.Logits)), Concat(inputs.Select(i => i.Deltas)));

        var (alone, aloneLaunches) = Run(runtime, () => postprocess.Infer(inputs[0].Logits, inputs[0].Deltas, [inputs[0].Proposals], [sizes[0]]));
        var (batch, batchLaunches) = Run(runtime, () => postprocess.Infer(logits, deltas, [.. inputs.Select(i => i.Proposals)], sizes));

        output.WriteLine($"{config.ClassLogits} classes: one image {aloneLaunches} launches, two images {batchLaunches}");
        Assert.True(aloneLaunches <= PerBatch + PerImage, $"one image took {aloneLaunches} launches, more than {PerBatch} + {PerImage}");
        Assert.True(batchLaunches - aloneLaunches <= PerImage, $"a second image added {batchLaunches - aloneLaunches} launches, more than {PerImage}");
        Assert.True(alone[0].Boxes.Count.ToArray<long>()[0] > 0, "the first image kept no detection, so the comparison shows nothing");
        Assert.Equal(alone[0].Boxes.Count.ToArray<long>(), batch[0].Boxes.Count.ToArray<long>());
        Assert.Equal(alone[0].Boxes.Boxes.ToArray<float>(), batch[0].Boxes.Boxes.ToArray<float>());
        Assert.Equal(alone[0].Scores.ToArray<float>(), batch[0].Scores.ToArray<float>());
        Assert.Equal(alone[0].MaskRows.ToArray<long>(), batch[0].MaskRows.ToArray<long>());
    }

    private static (IReadOnlyList<DeviceDetections> Detections, long Launches) Run(EmulatedRuntime runtime, Func<IReadOnlyList<DeviceDetections>> infer)
    {
        var before = runtime.Traffic.Counts;
        var detections = infer();
        return (detections, (runtime.Traffic.Counts - before).Launches);
    }

    private static Tensor Concat(IEnumerable<Tensor> parts) => NativeSeg.Kernels.Indexing.Concat.Forward([.. parts], 0);

    /// <summary>
    /// Logits that make a few classes likely per proposal, small deltas, and proposals clustered so that NMS suppresses,
    /// the last three slots past the count.
    /// </summary>
    private static (Tensor Logits, Tensor Deltas, DeviceBoxes Proposals) Inputs(Random rng, Device device, int classes, (int H, int W) size)
    {
        var logits = new float[Rows * classes];
        for (int i = 0; i < logits.Length; i++) logits[i] = (float)(rng.NextDouble() * 2 - 1) + (rng.Next(12) == 0 ? 4 : 0);
        var deltas = new float[Rows * classes * 4];
        for (int i = 0; i < deltas.Length; i++) deltas[i] = (float)((rng.NextDouble() - 0.5) * 0.4);
        var boxes = new float[Rows * 4];
        for (int r = 0; r < Rows - 3; r++)
        {
            float x = 10 + r % 4 * 3 + (float)rng.NextDouble() * 4, y = 12 + r % 3 * 5 + (float)rng.NextDouble() * 4;
            (boxes[r * 4], boxes[r * 4 + 1], boxes[r * 4 + 2], boxes[r * 4 + 3]) = (x, y, x + 40 + (float)rng.NextDouble() * 10, y + 30 + (float)rng.NextDouble() * 10);
        }
        return (Upload(Tensor.FromArray(logits, Rows, classes), device), Upload(Tensor.FromArray(deltas, Rows, classes * 4), device),
            new DeviceBoxes(Upload(Tensor.FromArray(boxes, Rows, 4), device), Upload(Tensor.FromArray(new long[] { Rows - 3 }, 1), device)));
    }

    private static Tensor Upload(Tensor host, Device device)
    {
        using (host) return host.To(device);
    }
}
