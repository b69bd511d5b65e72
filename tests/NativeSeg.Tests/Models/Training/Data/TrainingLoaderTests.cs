using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Models.Training.Data;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.Training.Data;

public class TrainingLoaderTests
{
    private static readonly TrainingAugmentation Augmentation = new([40, 56, 64], 100, flip: true);

    private static TrainingLoader Loader(CocoTrainingSet set, DetectionFlavour flavor, int workers, long start = 0, ulong seed = 11) =>
        new(set, Augmentation, flavor == DetectionFlavour.Torchvision ? PreprocessConfig.For(DetectionFlavour.Torchvision) : PreprocessConfig.For(DetectionFlavour.Detectron2),
            SyntheticTrainingData.Model(flavor), batchSize: 2, seed, workers, startIteration: start);

    private static void AssertSame(TrainingBatch a, TrainingBatch b)
    {
        Assert.Equal(a.Iteration, b.Iteration);
        Assert.Equal(a.Images.Shape.ToArray(), b.Images.Shape.ToArray());
        Assert.Equal(a.Images.ToArray<float>(), b.Images.ToArray<float>());
        Assert.Equal(a.Samples.Count, b.Samples.Count);
        for (int i = 0; i < a.Samples.Count; i++)
        {
            var (x, y) = (a.Samples[i], b.Samples[i]);
            Assert.Equal((x.ImageId, x.FileName, x.Height, x.Width, x.Plan), (y.ImageId, y.FileName, y.Height, y.Width, y.Plan));
            Assert.Equal(x.Truth.Boxes, y.Truth.Boxes);
            Assert.Equal(x.Truth.Classes, y.Truth.Classes);
            for (int m = 0; m < x.Truth.Count; m++)
                Assert.Equal(x.Truth.Masks[m].ToRle(x.Height, x.Width).Counts.ToArray(), y.Truth.Masks[m].ToRle(y.Height, y.Width).Counts.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(SyntheticTrainingData.TrainingFlavours), MemberType = typeof(SyntheticTrainingData))]
    public void BatchesDoNotDependOnWorkersOrStartIteration(DetectionFlavour flavor)
    {
        using var data = new SyntheticTrainingData(images: 5);
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        using var one = Loader(set, flavor, workers: 1);
        using var three = Loader(set, flavor, workers: 3);
        using var resumed = Loader(set, flavor, workers: 2, start: 4);
        var first = Enumerable.Range(0, 7).Select(_ => one.Next()).ToList();
        try
        {
            foreach (var batch in first)
            {
                using var other = three.Next();
                AssertSame(batch, other);
            }
            for (int i = 4; i < 7; i++)
            {
                using var other = resumed.Next();
                AssertSame(first[i], other);
            }
            // 14 samples over 5 images: epochs 0 and 1 are complete permutations, each image once.
            var samples = first.SelectMany(b => b.Samples).ToList();
            Assert.Equal(set.Images.Select(im => im.Id).Order(), samples.Take(5).Select(s => s.ImageId).Order());
            Assert.Equal(set.Images.Select(im => im.Id).Order(), samples.Skip(5).Take(5).Select(s => s.ImageId).Order());
            Assert.Contains(samples, s => s.Plan.Flip);
            Assert.Contains(samples, s => !s.Plan.Flip);
        }
        finally
        {
            first.ForEach(b => b.Dispose());
        }
    }

    [Fact]
    public void ADifferentSeedGivesDifferentBatches()
    {
        using var data = new SyntheticTrainingData(images: 5);
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        using var a = Loader(set, DetectionFlavour.Torchvision, workers: 1, seed: 1);
        using var b = Loader(set, DetectionFlavour.Torchvision, workers: 1, seed: 2);
        var plansA = Enumerable.Range(0, 5).SelectMany(_ => { using var batch = a.Next(); return batch.Samples.Select(s => s.Plan); }).ToList();
        var plansB = Enumerable.Range(0, 5).SelectMany(_ => { using var batch = b.Next(); return batch.Samples.Select(s => s.Plan); }).ToList();
        Assert.NotEqual(plansA, plansB);
    }

    [Theory]
    [MemberData(nameof(SyntheticTrainingData.TrainingFlavours), MemberType = typeof(SyntheticTrainingData))]
    public void PaddingIsZeroAfterNormalisationAndAMultipleOf32(DetectionFlavour flavor)
    {
        using var data = new SyntheticTrainingData(images: 4, width: 90, height: 50);
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        using var loader = Loader(set, flavor, workers: 2);
        for (int iteration = 0; iteration < 3; iteration++)
        {
            using var batch = loader.Next();
            int ph = batch.Images.Shape[2], pw = batch.Images.Shape[3];
            Assert.Equal(0, ph % 32);
            Assert.Equal(0, pw % 32);
            Assert.Equal(batch.Samples.Max(s => s.Height + 31) / 32 * 32, ph);
            Assert.Equal(batch.Samples.Max(s => s.Width + 31) / 32 * 32, pw);
            var values = batch.Images.AsSpan<float>();
            for (int b = 0; b < batch.Samples.Count; b++)
            {
                var s = batch.Samples[b];
                Assert.Equal((s.Height, s.Width), (s.Truth.Height, s.Truth.Width));
                // torchvision floors size × float32 scale, which can land a pixel short (375×500 → 799×1066).
                Assert.InRange(Math.Min(s.Height, s.Width), s.Plan.MinSize - (flavor == DetectionFlavour.Torchvision ? 1 : 0), s.Plan.MinSize);
                int nonZeroInside = 0;
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < ph; y++)
                        for (int x = 0; x < pw; x++)
                        {
                            float v = values[((b * 3 + c) * ph + y) * pw + x];
                            if (y >= s.Height || x >= s.Width) Assert.Equal(0f, v);
                            else if (v != 0) nonZeroInside++;
                        }
                Assert.True(nonZeroInside > s.Height * s.Width * 2, "normalised pixels are (almost) never exactly zero");
            }
        }
    }

    [Fact]
    public void ADecodeFailureNamesTheFile()
    {
        using var data = new SyntheticTrainingData(images: 1);
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        File.WriteAllBytes(set.ImagePath(0), [1, 2, 3, 4]);
        using var loader = Loader(set, DetectionFlavour.Torchvision, workers: 2);
        var e = Assert.Throws<TrainingDataException>(() => loader.Next());
        Assert.Contains(set.ImagePath(0), e.Message);
        Assert.Contains("not a PNG or JPEG", e.Message);
    }

    [Fact]
    public void ACategoryTheModelLacksStopsTheLoaderAtOnce()
    {
        using var data = new SyntheticTrainingData(images: 1);
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        var model = SyntheticTrainingData.Model(DetectionFlavour.Detectron2) with { ClassLogits = 3, CategoryIds = [1, 2, -1] };
        var e = Assert.Throws<TrainingDataException>(() => new TrainingLoader(set, Augmentation, PreprocessConfig.For(DetectionFlavour.Detectron2), model, 1, 0, 1));
        Assert.Contains("category 3 ('triangle') is not one of the model's classes", e.Message);
    }

    [Fact]
    public void DisposeStopsWorkersWithBatchesPending()
    {
        using var data = new SyntheticTrainingData(images: 3);
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        var loader = Loader(set, DetectionFlavour.Detectron2, workers: 3);
        using (loader.Next()) { }
        loader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loader.Next());
    }
}
