using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Models.Training.Data;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.Training.Data;

public class TrainingAugmentationTests
{
    private const int W = 60, H = 40;

    // A triangle with integer corners (polygon GT), a box-shaped RLE mask, and a crowd region.
    private static readonly double[] Triangle = [4, 6, 30, 10, 12, 33];

    private static List<CocoAnnotation> Annotations() =>
    [
        new() { Id = 1, ImageId = 1, CategoryId = 1, Box = new CocoBox(4, 6, 26, 27), Segmentation = new PolygonSegmentation([Triangle]) },
        new() { Id = 2, ImageId = 1, CategoryId = 2, Box = new CocoBox(40, 5, 11, 20), Segmentation = new RleSegmentation(Rle.FromBox(new CocoBox(40, 5, 11, 20), H, W)) },
        new() { Id = 3, ImageId = 1, CategoryId = 3, IsCrowd = true, Box = new CocoBox(0, 0, 5, 5), Segmentation = new RleSegmentation(Rle.FromBox(new CocoBox(0, 0, 5, 5), H, W)) },
    ];

    private static Image Gradient()
    {
        var pixels = new byte[W * H * 3];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) pixels[(y * W + x) * 3 + c] = (byte)(x * 4 + y * (c + 1));
        return new Image(W, H, 3, pixels);
    }

    private static PreprocessConfig Preprocess(DetectionFlavour flavor) => flavor == DetectionFlavour.Torchvision ? PreprocessConfig.For(DetectionFlavour.Torchvision) : PreprocessConfig.For(DetectionFlavour.Detectron2);

    private static byte[] Mask(CocoSegmentation s, int h, int w) => s.ToRle(h, w).ToRowMajor();

    private static byte[] Mirrored(byte[] mask, int h, int w)
    {
        var m = new byte[mask.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) m[y * w + x] = mask[y * w + w - 1 - x];
        return m;
    }

    [Theory]
    [MemberData(nameof(SyntheticTrainingData.TrainingFlavours), MemberType = typeof(SyntheticTrainingData))]
    public void FlipMirrorsImageBoxesAndMasksTogether(DetectionFlavour flavor)
    {
        var augmentation = new TrainingAugmentation([H], 1000, flip: true);
        var model = SyntheticTrainingData.Model(flavor);
        using var plain = augmentation.Apply(Gradient(), Annotations(), H, false, Preprocess(flavor), model);
        using var flipped = augmentation.Apply(Gradient(), Annotations(), H, true, Preprocess(flavor), model);
        Assert.Equal((H, W), (flipped.Input.Height, flipped.Input.Width));
        Assert.Equal(2, flipped.Truth.Count);
        for (int i = 0; i < 2; i++)
        {
            var a = plain.Truth.Boxes.AsSpan(i * 4, 4);
            var b = flipped.Truth.Boxes.AsSpan(i * 4, 4);
            Assert.Equal([W - a[2], a[1], W - a[0], a[3]], b.ToArray());
            // The rasterised flipped polygon (detectron2) or the flipped rasterised mask (torchvision) is the mirror image.
            Assert.Equal(Mirrored(Mask(plain.Truth.Masks[i], H, W), H, W), Mask(flipped.Truth.Masks[i], H, W));
        }
        // detectron2 keeps polygons as polygons; torchvision trains on the rasterised masks.
        if (flavor == DetectionFlavour.Detectron2) Assert.IsType<PolygonSegmentation>(flipped.Truth.Masks[0]);
        else Assert.IsType<RleSegmentation>(flipped.Truth.Masks[0]);

        var p = plain.Input.Input.AsSpan<float>();
        var f = flipped.Input.Input.AsSpan<float>();
        int pw = plain.Input.PaddedWidth, ph = plain.Input.PaddedHeight;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < pw; x++)
                    Assert.Equal(x < W ? p[(c * ph + y) * pw + W - 1 - x] : 0f, f[(c * ph + y) * pw + x]);
    }

    [Theory]
    [MemberData(nameof(SyntheticTrainingData.TrainingFlavours), MemberType = typeof(SyntheticTrainingData))]
    public void ResizeScalesBoxesAndMasksByTheSizeRatio(DetectionFlavour flavor)
    {
        var augmentation = new TrainingAugmentation([100], 1000, flip: false);
        var model = SyntheticTrainingData.Model(flavor);
        using var sample = augmentation.Apply(Gradient(), Annotations(), 100, false, Preprocess(flavor), model);
        Assert.Equal((100, 150), (sample.Input.Height, sample.Input.Width));
        Assert.Equal((100, 150), (sample.Truth.Height, sample.Truth.Width));
        float[] expected = [4 * 2.5f, 6 * 2.5f, 30 * 2.5f, 33 * 2.5f, 40 * 2.5f, 5 * 2.5f, 51 * 2.5f, 25 * 2.5f];
        Assert.Equal(expected, sample.Truth.Boxes);
        Assert.Equal([0, 1], flavor == DetectionFlavour.Torchvision ? sample.Truth.Classes.Select(c => c - 1) : sample.Truth.Classes);
        // The box-shaped RLE mask covers the scaled box: 2.5 × 11 by 2.5 × 20 pixels, give or take the nearest sampling.
        var box = sample.Truth.Masks[1].ToRle(100, 150).ToBox();
        Assert.InRange(box.X, 99, 101);
        Assert.InRange(box.Width, 27, 28);
        Assert.InRange(box.Height, 50, 51);
    }

    [Fact]
    public void ChoicesCoverEveryMinSizeAndFlipAboutHalfTheTime()
    {
        var augmentation = new TrainingAugmentation([10, 20, 30], 100, flip: true);
        var schedule = new SampleSchedule(7, 4, seed: 3, augmentation);
        var plans = Enumerable.Range(0, 500).SelectMany(i => schedule.Batch(i)).ToList();
        Assert.Equal([10, 20, 30], plans.Select(p => p.MinSize).Distinct().Order());
        Assert.InRange(plans.Count(p => p.Flip), 900, 1100);
        // Each epoch visits every image once.
        foreach (var epoch in plans.GroupBy(p => p.Epoch).Where(g => g.Count() == 7))
            Assert.Equal(Enumerable.Range(0, 7), epoch.Select(p => p.ImageIndex).Order());
        Assert.NotEqual(plans.Take(7).Select(p => p.ImageIndex), plans.Skip(7).Take(7).Select(p => p.ImageIndex));
    }
}
