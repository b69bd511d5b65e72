using NativeSeg.Cli;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Bpr;
using NativeSeg.Models.Synthetic;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Bpr;

/// <summary>
/// The shipped weights/bpr-hr18s.safetensors on one synthetic image like those it was trained on: coarse masks made
/// blocky as a 28×28 mask head makes them (the visible masks averaged over 8×8 blocks and thresholded) come back
/// closer to the ground truth. About 5 s on the CPU.
/// </summary>
public class ShippedBprWeightsTests(ITestOutputHelper output)
{
    private const int Block = 8;

    [Fact]
    public void RefinementBringsBlockyMasksCloserToTheTruth()
    {
        string models = Path.GetDirectoryName(DefaultModel.Find() ?? throw new FileNotFoundException("weights/default.safetensors not found from the test's folder"))!;
        using var model = BprModel.Load(Path.Combine(models, "bpr-hr18s.safetensors"), Device.Cpu);
        Assert.Equal("bpr-hr18s", model.Architecture);

        var options = new SyntheticOptions(1, 192, 160, 6, InstancesPerImage: 4, Seed: 77, MinVisibleArea: 400);
        var synthetic = SyntheticDataset.Generate(options, 0);
        var image = new Image(options.Width, options.Height, 3, synthetic.Rgb);
        var truth = synthetic.Instances.Select(i => i.Visible).ToList();
        var coarse = truth.Select(Blocky).ToList();
        var (refined, patches) = model.Refine(image, coarse);
        Assert.True(patches > 0, "no boundary patches");

        double before = truth.Zip(coarse, Iou).Average(), after = truth.Zip(refined, Iou).Average();
        output.WriteLine($"{truth.Count} instances, {patches} patches: mean IoU with the truth {before:F4} coarse, {after:F4} refined");
        Assert.True(after > before + 0.01, $"refined masks are not closer to the truth: IoU {before:F4} -> {after:F4}");
    }

    private static double Iou(Rle a, Rle b)
    {
        long inter = Rle.Intersection(a, b);
        return (double)inter / (a.Area + b.Area - inter);
    }

    /// <summary>Each 8×8 block foreground when at least half of it is.</summary>
    private static Rle Blocky(Rle mask)
    {
        int h = mask.Height, w = mask.Width;
        var pixels = mask.ToRowMajor();
        var result = new byte[pixels.Length];
        for (int by = 0; by < h; by += Block)
        {
            for (int bx = 0; bx < w; bx += Block)
            {
                int count = 0, area = 0;
                for (int y = by; y < Math.Min(h, by + Block); y++)
                    for (int x = bx; x < Math.Min(w, bx + Block); x++, area++) count += pixels[y * w + x];
                byte value = (byte)(2 * count >= area ? 1 : 0);
                for (int y = by; y < Math.Min(h, by + Block); y++)
                    for (int x = bx; x < Math.Min(w, bx + Block); x++) result[y * w + x] = value;
            }
        }
        return Rle.FromRowMajor(result, h, w);
    }
}
