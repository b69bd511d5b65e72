using NativeSeg.Cli.Commands;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Evaluation;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Coco;

/// <summary>
/// Detection areas, which decide the small/medium/large subsets: `eval --model` and `eval --results` on the
/// file `segment --json` wrote once disagreed there because one dropped boxes and the other read them.
/// </summary>
public class ResultAreaTests
{
    private const int Side = 100;

    /// <summary>A right triangle with legs n at (x, y): n(n+1)/2 pixels, under half its box's n*n.</summary>
    private static Rle Triangle(int x, int y, int n)
    {
        var m = new byte[Side * Side];
        for (int r = 0; r < n; r++)
            for (int c = 0; c <= r; c++) m[(y + r) * Side + x + c] = 1;
        return Rle.FromRowMajor(m, Side, Side);
    }

    private static Rle Square(int x, int y, int n)
    {
        var m = new byte[Side * Side];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) m[(y + r) * Side + x + c] = 1;
        return Rle.FromRowMajor(m, Side, Side);
    }

    private static readonly CocoImage Image = new(1, Side, Side, "1.png");

    [Fact]
    public void SegmentationAreaIsThePixelCountWhateverTheBoxAndBoxAreaIsWidthTimesHeight()
    {
        var triangle = Triangle(10, 10, 40);
        var box = new CocoBox(10, 10, 40, 40);
        var both = new CocoAnnotation { Segmentation = new RleSegmentation(triangle), Box = box };
        foreach (var type in new[] { IouType.Segm, IouType.Boundary })
        {
            var (area, _, mask) = CocoEvaluator.ReadResult(both, Image, type, "result");
            Assert.Equal(820, area);
            Assert.Equal(820, mask!.Area);
        }
        Assert.Equal(1600, CocoEvaluator.ReadResult(both, Image, IouType.Bbox, "result").Area);

        // Without the field the type reads, loadRes's fallbacks: a mask's pixel count and bounding box, a box's polygon.
        var (maskArea, maskBox, _) = CocoEvaluator.ReadResult(new CocoAnnotation { Segmentation = new RleSegmentation(triangle) }, Image, IouType.Bbox, "result");
        Assert.Equal(820, maskArea);
        Assert.Equal(box, maskBox);
        var (boxArea, _, boxMask) = CocoEvaluator.ReadResult(new CocoAnnotation { Box = box }, Image, IouType.Segm, "result");
        Assert.Equal(1600, boxArea);
        Assert.Equal(1600, boxMask!.Area);
    }

    private sealed class FixedSegmenter(IReadOnlyList<SegmentedInstance> instances) : IInstanceSegmenter
    {
        public string Architecture => "fixed";
        public IReadOnlyDictionary<long, string>? CategoryNames => null;
        public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images, StageClock? clock) => [instances];
        public void Dispose() { }
    }

    private static SegmentedInstance Instance(Rle mask, float score)
    {
        var b = mask.ToBox();
        return new SegmentedInstance((float)b.X, (float)b.Y, (float)(b.X + b.Width), (float)(b.Y + b.Height), score, score, 1, mask);
    }

    [Fact]
    public void ModelPathAndResultsFilePathGiveTheSameStats()
    {
        // Triangles are small by pixel count (820) but medium by box (1600): a false positive triangle
        // ranks above the true one, so APs is 0.5 by pixel counts, and APm would be 0.5 by boxes instead of 1.
        var gt = new CocoDataset();
        gt.Images.Add(Image);
        gt.Categories.Add(new CocoCategory(1, "a"));
        foreach (var (id, mask) in new[] { (1L, Triangle(5, 5, 40)), (2L, Square(55, 55, 40)) })
            gt.Annotations.Add(new CocoAnnotation
            {
                Id = id, ImageId = 1, CategoryId = 1, Segmentation = new RleSegmentation(mask), Area = mask.Area, Box = mask.ToBox(),
            });
        // Scores and whole-pixel boxes the results file keeps exactly.
        var instances = new[] { Instance(Triangle(55, 5, 40), 0.75f), Instance(Triangle(5, 5, 40), 0.5f), Instance(Square(55, 55, 40), 0.25f) };

        using var segmenter = new FixedSegmenter(instances);
        var inMemory = segmenter.Predict(new Image(Side, Side, 3, new byte[Side * Side * 3])).Select(p => EvalCommand.ToResult(1, p)).ToList();

        using var temp = new TempFolder();
        using (var writer = CocoResultsWriter.Start(temp.File("results.json")))
        {
            writer.Add(temp.File(Image.FileName), 1, Image.FileName, instances);
            writer.Complete(interrupted: false);
        }
        var readBack = CocoJson.ReadResults(temp.File("results.json"));

        foreach (var type in new[] { IouType.Segm, IouType.Bbox, IouType.Boundary })
        {
            var direct = CocoEvaluator.Evaluate(gt, inMemory, type).Stats;
            var fromFile = CocoEvaluator.Evaluate(gt, readBack, type).Stats;
            for (int i = 0; i < direct.Count; i++)
                Assert.True(direct[i] == fromFile[i], $"{type} {EvaluationResult.StatNames[i]}: {direct[i]:R} in memory, {fromFile[i]:R} from the file");
        }
        var segm = CocoEvaluator.Evaluate(gt, readBack, IouType.Segm).Stats;
        Assert.Equal(0.5, segm[3], 12);  // APs
        Assert.Equal(1.0, segm[4], 12);  // APm
    }
}
