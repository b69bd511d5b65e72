using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Evaluation;

namespace NativeSeg.Tests.Coco;

/// <summary>The real COCO annotations evaluated against results made from themselves.</summary>
public class RealCocoEvaluationTests
{
    /// <summary>Every non-crowd annotation as a detection with its own mask (or box) and a distinct score.</summary>
    internal static List<CocoAnnotation> GroundTruthAsResults(CocoDataset dataset, IouType type)
    {
        var images = dataset.Images.ToDictionary(i => i.Id);
        var results = new List<CocoAnnotation>();
        foreach (var a in dataset.Annotations.Where(a => !a.IsCrowd))
        {
            var image = images[a.ImageId];
            var r = new CocoAnnotation { ImageId = a.ImageId, CategoryId = a.CategoryId, Score = 1.0 - results.Count * 1e-4 };
            if (type == IouType.Bbox) r.Box = a.Box;
            else r.Segmentation = new RleSegmentation(a.Segmentation!.ToRle(image.Height, image.Width));
            results.Add(r);
        }
        return results;
    }

    [Theory]
    [InlineData(SharedData.Occl10, IouType.Segm)]
    [InlineData(SharedData.Occl10, IouType.Boundary)]
    [InlineData(SharedData.Mini, IouType.Segm)]
    [InlineData(SharedData.Mini, IouType.Bbox)]
    public void GroundTruthAsResultsScoresOne(string file, IouType type)
    {
        string? path = SharedData.File(file);
        if (path is null) return;
        var dataset = CocoJson.ReadDataset(path);
        var r = CocoEvaluator.Evaluate(dataset, GroundTruthAsResults(dataset, type), type);
        foreach (int i in new[] { 0, 1, 2, 8 }) Assert.Equal(1.0, r.Stats[i], 12);
        foreach (var o in r.Occlusion) Assert.True(Math.Abs(o.Ap - 1.0) < 1e-12 || (o.Ap == -1 && o.Instances == 0), $"{o.Label}: {o.Ap}");
    }

    /// <summary>
    /// Dropping every second detection of the most frequent category leaves that category with precision 1
    /// up to recall kept/n, so its AP is (number of recall thresholds ≤ kept/n)/101; the others stay 1.
    /// Lowering all its scores below every other category's changes nothing, since AP is per category.
    /// </summary>
    [Fact]
    public void DroppingHalfOfOneCategoryGivesThePredictedAp()
    {
        string? path = SharedData.File(SharedData.Mini);
        if (path is null) return;
        var dataset = CocoJson.ReadDataset(path);
        var all = GroundTruthAsResults(dataset, IouType.Segm);
        // The most frequent category without crowd regions, so the by-hand count needs no crowd rule.
        var crowdCategories = dataset.Annotations.Where(a => a.IsCrowd).Select(a => a.CategoryId).ToHashSet();
        long category = dataset.Annotations.Where(a => !a.IsCrowd && !crowdCategories.Contains(a.CategoryId)).GroupBy(a => a.CategoryId)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        var ofCategory = all.Where(r => r.CategoryId == category).ToList();
        var kept = ofCategory.Where((_, i) => i % 2 == 0).ToHashSet();
        var results = all.Where(r => r.CategoryId != category || kept.Contains(r)).ToList();
        foreach (var r in kept) r.Score *= 0.01;

        var crowdOfCategory = dataset.Annotations.Count(a => a.IsCrowd && a.CategoryId == category);
        Assert.Equal(0, crowdOfCategory);
        int n = ofCategory.Count;
        double reached = kept.Count / (double)n;
        int thresholds = EvaluationParams.RecallThresholds.Count(t => t <= reached);
        int categoriesWithGt = dataset.Annotations.Where(a => !a.IsCrowd).Select(a => a.CategoryId).Distinct().Count();
        double expected = (categoriesWithGt - 1 + thresholds / 101.0) / categoriesWithGt;

        var result = CocoEvaluator.Evaluate(dataset, results, IouType.Segm);
        Assert.Equal(expected, result.Stats[0], 12);
        Assert.Equal(expected, result.Stats[1], 12);
        Assert.Equal((categoriesWithGt - 1 + reached) / categoriesWithGt, result.Stats[8], 12);
    }
}
