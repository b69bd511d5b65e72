using System.Text.Json;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Evaluation;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Coco;

public class CocoEvaluatorTests
{
    private static List<(string Name, CocoDataset Gt, List<CocoAnnotation> Segm, List<CocoAnnotation> Box, JsonElement Case)> FixtureCases()
    {
        var root = JsonDocument.Parse(File.ReadAllBytes(FixturePaths.Fixture("coco_eval_cases.json"))).RootElement;
        var cases = new List<(string, CocoDataset, List<CocoAnnotation>, List<CocoAnnotation>, JsonElement)>();
        using var temp = new TempFolder();
        foreach (var c in root.EnumerateArray())
        {
            File.WriteAllText(temp.File("gt.json"), c.GetProperty("gt").GetRawText());
            File.WriteAllText(temp.File("segm.json"), c.GetProperty("results").GetRawText());
            File.WriteAllText(temp.File("bbox.json"), c.GetProperty("bbox_results").GetRawText());
            cases.Add((c.GetProperty("name").GetString()!, CocoJson.ReadDataset(temp.File("gt.json")),
                CocoJson.ReadResults(temp.File("segm.json")), CocoJson.ReadResults(temp.File("bbox.json")), c));
        }
        return cases;
    }

    [Fact]
    public void StatsEqualPycocotoolsAndBoundaryIouApi()
    {
        foreach (var (name, gt, segm, box, c) in FixtureCases())
        {
            foreach (var (type, results, key) in new[] { (IouType.Segm, segm, "segm"), (IouType.Bbox, box, "bbox"), (IouType.Boundary, segm, "boundary") })
            {
                var expected = c.GetProperty(key).EnumerateArray().Select(v => v.GetDouble()).ToArray();
                var actual = CocoEvaluator.Evaluate(gt, results, type).Stats;
                for (int i = 0; i < 12; i++)
                    Assert.True(expected[i] == actual[i], $"{name} {key} {EvaluationResult.StatNames[i]}: expected {expected[i]:R}, got {actual[i]:R}");
            }
        }
    }

    // ---- hand-computed cases -------------------------------------------------------------------------

    private static Rle Rect(int x, int y, int w, int h, int height = 100, int width = 100)
    {
        var m = new byte[height * width];
        for (int yy = y; yy < y + h; yy++)
            for (int xx = x; xx < x + w; xx++) m[yy * width + xx] = 1;
        return Rle.FromRowMajor(m, height, width);
    }

    private static CocoDataset Dataset(params (long Id, long Image, long Cat, Rle Mask, bool Crowd)[] gts)
    {
        var d = new CocoDataset();
        foreach (long image in gts.Select(g => g.Image).Append(1).Append(2).Distinct()) d.Images.Add(new CocoImage(image, 100, 100, $"{image}.png"));
        d.Categories.Add(new CocoCategory(1, "a"));
        d.Categories.Add(new CocoCategory(2, "b"));
        foreach (var g in gts)
            d.Annotations.Add(new CocoAnnotation
            {
                Id = g.Id, ImageId = g.Image, CategoryId = g.Cat, Segmentation = new RleSegmentation(g.Mask),
                Area = g.Mask.Area, Box = g.Mask.ToBox(), IsCrowd = g.Crowd,
            });
        return d;
    }

    private static CocoAnnotation Det(long image, long cat, Rle mask, double score) =>
        new() { ImageId = image, CategoryId = cat, Segmentation = new RleSegmentation(mask), Score = score };

    [Fact]
    public void PerfectDetectionsGiveOneAndMissingOnesHalveRecall()
    {
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false), (2, 1, 1, Rect(50, 50, 40, 40), false));
        var all = CocoEvaluator.Evaluate(gt, [Det(1, 1, Rect(0, 0, 40, 40), 0.9), Det(1, 1, Rect(50, 50, 40, 40), 0.8)], IouType.Segm);
        Assert.Equal(1.0, all.Stats[0], 12);
        Assert.Equal(0.5, all.Stats[6]);   // AR@1: one of two found
        Assert.Equal(-1.0, all.Stats[3]);  // no small ground truth
        // One of two found, at precision 1: recall thresholds 0..0.5 reached, 51 of 101.
        var half = CocoEvaluator.Evaluate(gt, [Det(1, 1, Rect(0, 0, 40, 40), 0.9)], IouType.Segm);
        Assert.Equal(51.0 / 101, half.Stats[0], 15);
    }

    [Fact]
    public void EmptyResultsGiveZeroWhereGroundTruthExists()
    {
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false));
        var r = CocoEvaluator.Evaluate(gt, [], IouType.Segm);
        Assert.Equal(0.0, r.Stats[0]);
        Assert.Equal(0.0, r.Stats[8]);
        Assert.Equal(-1.0, r.Stats[3]);
    }

    [Fact]
    public void DetectionsOnImagesWithoutAnnotationsAreFalsePositives()
    {
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false));   // image 2 exists but has no annotations
        // The false positive on image 2 outranks the true positive: precision 1/2 at recall 1.
        var r = CocoEvaluator.Evaluate(gt, [Det(2, 1, Rect(0, 0, 40, 40), 0.9), Det(1, 1, Rect(0, 0, 40, 40), 0.5)], IouType.Segm);
        Assert.Equal(0.5, r.Stats[0], 12);
        // Ranked below it, it costs nothing: precision stays 1 up to recall 1.
        var r2 = CocoEvaluator.Evaluate(gt, [Det(2, 1, Rect(0, 0, 40, 40), 0.4), Det(1, 1, Rect(0, 0, 40, 40), 0.5)], IouType.Segm);
        Assert.Equal(1.0, r2.Stats[0], 12);
    }

    [Fact]
    public void TiedScoresKeepImageOrderThenResultOrder()
    {
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false));
        // Same score: COCOeval's stable sort puts image 1 (lower id) first even though image 2's result comes first in the file.
        var r = CocoEvaluator.Evaluate(gt, [Det(2, 1, Rect(0, 0, 40, 40), 0.5), Det(1, 1, Rect(0, 0, 40, 40), 0.5)], IouType.Segm);
        Assert.Equal(1.0, r.Stats[0], 12);
        // Within one image, the false positive listed first is ranked first.
        var r2 = CocoEvaluator.Evaluate(gt, [Det(1, 1, Rect(60, 60, 10, 10), 0.5), Det(1, 1, Rect(0, 0, 40, 40), 0.5)], IouType.Segm);
        Assert.Equal(0.5, r2.Stats[1], 12);
    }

    [Fact]
    public void CrowdRegionsAbsorbDetectionsWithoutCounting()
    {
        // A crowd region covering the right half: detections inside it match it (IoU = intersection over the
        // detection's own area) and are ignored, any number of them.
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false), (2, 1, 1, Rect(50, 0, 50, 100), true));
        var dets = new List<CocoAnnotation>
        {
            Det(1, 1, Rect(60, 10, 10, 10), 0.95), Det(1, 1, Rect(70, 50, 20, 20), 0.9),
            Det(1, 1, Rect(0, 0, 40, 40), 0.5),
        };
        var r = CocoEvaluator.Evaluate(gt, dets, IouType.Segm);
        Assert.Equal(1.0, r.Stats[0], 12);
        Assert.Equal(1.0, Rle.Iou(Rect(60, 10, 10, 10), Rect(50, 0, 50, 100), true));
        // Half inside the crowd region: crowd IoU 0.5 matches at threshold 0.5 only; at 0.55+ it is a false positive
        // ranked above the true positive, so precision there is 1/2.
        var r2 = CocoEvaluator.Evaluate(gt, [Det(1, 1, Rect(40, 60, 20, 10), 0.95), Det(1, 1, Rect(0, 0, 40, 40), 0.5)], IouType.Segm);
        Assert.Equal((1.0 + 9 * 0.5) / 10, r2.Stats[0], 12);
    }

    [Fact]
    public void AreaRangeEdgesAreInclusive()
    {
        // 32x32 = 1024 lies in both small [0, 1024] and medium [1024, 9216]; 96x96 in medium and large.
        var gt = Dataset((1, 1, 1, Rect(0, 0, 32, 32), false), (2, 1, 2, Rect(0, 0, 96, 96), false));
        var r = CocoEvaluator.Evaluate(gt, [Det(1, 1, Rect(0, 0, 32, 32), 0.9), Det(1, 2, Rect(0, 0, 96, 96), 0.9)], IouType.Segm);
        Assert.Equal(1.0, r.Stats[3], 12);
        Assert.Equal(1.0, r.Stats[4], 12);
        Assert.Equal(1.0, r.Stats[5], 12);
        // An unmatched small detection is ignored in the large range, counted in the small one.
        var r2 = CocoEvaluator.Evaluate(gt, [Det(1, 2, Rect(98, 98, 2, 2), 0.99), Det(1, 2, Rect(0, 0, 96, 96), 0.9)], IouType.Segm);
        Assert.Equal(1.0, r2.Stats[5], 12);
        // Over all areas it is a false positive: category 2 has AP50 0.5, category 1 (not detected) 0.
        Assert.Equal(0.25, r2.Stats[1], 12);
    }

    [Fact]
    public void MaxDetsLimitsPerImageAndCategory()
    {
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false), (2, 1, 1, Rect(50, 50, 40, 40), false));
        var r = CocoEvaluator.Evaluate(gt, [Det(1, 1, Rect(0, 0, 40, 40), 0.9), Det(1, 1, Rect(50, 50, 40, 40), 0.8)], IouType.Segm);
        Assert.Equal(0.5, r.Stats[6]);
        Assert.Equal(1.0, r.Stats[7], 12);
    }

    [Fact]
    public void UnknownImagesAndCategoriesAreErrors()
    {
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false));
        var e1 = Assert.Throws<CocoFormatException>(() => CocoEvaluator.Evaluate(gt, [Det(7, 1, Rect(0, 0, 4, 4), 0.5)], IouType.Segm));
        Assert.Contains("image_id 7", e1.Message);
        var e2 = Assert.Throws<CocoFormatException>(() => CocoEvaluator.Evaluate(gt, [Det(1, 9, Rect(0, 0, 4, 4), 0.5)], IouType.Segm));
        Assert.Contains("category_id 9", e2.Message);
        var e3 = Assert.Throws<CocoFormatException>(() => CocoEvaluator.Evaluate(gt, [Det(1, 1, Rect(0, 0, 4, 4, 50, 50), 0.5)], IouType.Segm));
        Assert.Contains("50x50", e3.Message);
    }

    [Fact]
    public void OcclusionSubsetsSplitByCoveredShareOfTheBox()
    {
        // Side by side, no instance reaches into another's box: every occlusion ratio is 0.
        var gt = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false), (2, 1, 1, Rect(40, 0, 10, 40), false),
            (3, 1, 1, Rect(0, 50, 40, 40), false));
        var ratio = Rle.Merge([Rect(40, 0, 10, 40), Rect(0, 50, 40, 40)]).CountInRectangle(0, 0, 40, 40);
        Assert.Equal(0, ratio); // side by side: nothing of GT 2 inside GT 1's box
        var overlapping = Dataset((1, 1, 1, Rect(0, 0, 40, 40), false), (2, 1, 1, Rect(30, 0, 20, 40), false));
        // GT 2 overlaps the right 10 columns of GT 1's box: 400 / 1600 = 0.25; GT 1 covers 10 of GT 2's 20 columns: 0.5.
        var r = CocoEvaluator.Evaluate(overlapping, [Det(1, 1, Rect(0, 0, 40, 40), 0.9)], IouType.Segm);
        var byLabel = r.Occlusion.ToDictionary(o => o.Label);
        Assert.Equal(0, byLabel["occl<0.1"].Instances);
        Assert.Equal(2, byLabel["occl>=0.1"].Instances);
        Assert.Equal(1, byLabel["occl<0.3"].Instances);
        Assert.Equal(1, byLabel["occl>=0.3"].Instances);
        Assert.Equal(1.0, byLabel["occl<0.3"].Ap, 12);      // GT 1 found
        Assert.Equal(0.0, byLabel["occl>=0.3"].Ap);     // GT 2 missed; the detection matched GT 1 is ignored there
        Assert.Equal(-1.0, byLabel["occl<0.1"].Ap);
        Assert.Equal(3, CocoEvaluator.Evaluate(gt, [], IouType.Segm).Occlusion.Single(o => o.Label == "occl<0.1").Instances);
    }
}
