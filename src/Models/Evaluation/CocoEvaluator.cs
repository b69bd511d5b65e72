using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Models.Evaluation;

/// <summary>
/// COCO detection / instance-segmentation AP with pycocotools' COCOeval semantics (loadRes, computeIoU,
/// evaluateImg, accumulate, summarize), plus Boundary AP and occlusion subsets. Images are evaluated in
/// parallel; everything order-dependent (score ties, accumulation) follows COCOeval's stable orders.
/// </summary>
public static class CocoEvaluator
{
    private const int MaxDetectionsPerImage = 100;

    /// <summary>np.spacing(1): keeps precision defined before the first true or false positive.</summary>
    private const double NumpySpacingOfOne = 2.220446049250313e-16;

    private sealed class Gt(CocoAnnotation annotation, int category)
    {
        public CocoAnnotation Annotation { get; } = annotation;
        public int Category { get; } = category;
        public Rle? Mask;
        public Rle? Boundary;
        public double Occlusion;
    }

    private sealed class Dt(CocoAnnotation result, long id, int category, double area, CocoBox box)
    {
        public CocoAnnotation Result { get; } = result;
        public long Id { get; } = id;
        public int Category { get; } = category;
        public double Area { get; } = area;
        public CocoBox Box { get; } = box;
        public double Score => Result.Score!.Value;
        public Rle? Mask;
        public Rle? Boundary;
    }

    /// <summary>evaluateImg's output for one image, category and subset at maxDets 100.</summary>
    private sealed class SubsetMatch(bool[] matched, bool[] ignored, int nonIgnoredGt)
    {
        public bool[] Matched { get; } = matched;   // [t * D + d]
        public bool[] Ignored { get; } = ignored;
        public int NonIgnoredGt { get; } = nonIgnoredGt;
    }

    private sealed class ImageCategoryEval(int category, double[] scores, SubsetMatch[] subsets)
    {
        public int Category { get; } = category;
        public double[] Scores { get; } = scores;     // detections in score order, at most 100
        public SubsetMatch[] Subsets { get; } = subsets;
    }

    public static EvaluationResult Evaluate(CocoDataset groundTruth, IReadOnlyList<CocoAnnotation> results, IouType iouType, bool occlusionBreakdown = true)
    {
        var imageIds = groundTruth.Images.Select(i => i.Id).Distinct().Order().ToArray();
        var imageIndex = new Dictionary<long, int>();
        for (int i = 0; i < imageIds.Length; i++) imageIndex[imageIds[i]] = i;
        var images = new CocoImage[imageIds.Length];
        foreach (var image in groundTruth.Images) images[imageIndex[image.Id]] = image;
        var categoryIds = groundTruth.Categories.Select(c => c.Id).Distinct().Order().ToArray();
        var categoryIndex = new Dictionary<long, int>();
        for (int k = 0; k < categoryIds.Length; k++) categoryIndex[categoryIds[k]] = k;

        bool useOcclusion = occlusionBreakdown && iouType != IouType.Bbox;
        var subsets = useOcclusion ? [.. EvaluationParams.AreaRanges, .. EvaluationParams.OcclusionRanges] : EvaluationParams.AreaRanges;

        // Like getAnnIds(imgIds, catIds): ground truth on unknown images or categories takes no part.
        var gtsByImage = new List<Gt>[imageIds.Length];
        for (int i = 0; i < gtsByImage.Length; i++) gtsByImage[i] = [];
        foreach (var a in groundTruth.Annotations)
        {
            if (!imageIndex.TryGetValue(a.ImageId, out int img) || !categoryIndex.TryGetValue(a.CategoryId, out int cat)) continue;
            if (a.Area is null) throw new CocoFormatException($"ground-truth annotation {a.Id} has no area");
            if (iouType == IouType.Bbox && a.Box is null) throw new CocoFormatException($"ground-truth annotation {a.Id} has no bbox");
            if (iouType != IouType.Bbox && a.Segmentation is null) throw new CocoFormatException($"ground-truth annotation {a.Id} has no segmentation");
            gtsByImage[img].Add(new Gt(a, cat));
        }

        var dtsByImage = LoadResults(results, imageIndex, images, categoryIndex, iouType);

        var perImage = new List<ImageCategoryEval>[imageIds.Length];
        Parallel.For(0, imageIds.Length, i =>
            perImage[i] = EvaluateImage(images[i], gtsByImage[i], dtsByImage[i], iouType, subsets, useOcclusion));

        return Accumulate(perImage, categoryIds.Length, subsets, iouType);
    }

    /// <summary>
    /// loadRes: ids are positions + 1; each result's area, box and mask come from <see cref="ReadResult"/>.
    /// Unknown images or categories are errors rather than silently dropped.
    /// </summary>
    private static List<Dt>[] LoadResults(IReadOnlyList<CocoAnnotation> results, Dictionary<long, int> imageIndex, CocoImage[] images,
        Dictionary<long, int> categoryIndex, IouType iouType)
    {
        var byImage = new List<Dt>[images.Length];
        for (int i = 0; i < byImage.Length; i++) byImage[i] = [];
        for (int n = 0; n < results.Count; n++)
        {
            var r = results[n];
            if (!imageIndex.TryGetValue(r.ImageId, out int img))
                throw new CocoFormatException($"result [{n}] refers to image_id {r.ImageId}, which is not in the annotations file");
            if (!categoryIndex.TryGetValue(r.CategoryId, out int cat))
                throw new CocoFormatException($"result [{n}] refers to category_id {r.CategoryId}, which is not in the annotations file");
            if (r.Score is null) throw new CocoFormatException($"result [{n}] has no score");
            var (area, box, mask) = ReadResult(r, images[img], iouType, $"result [{n}]");
            byImage[img].Add(new Dt(r, n + 1, cat, area, box) { Mask = mask });
        }
        return byImage;
    }

    /// <summary>
    /// The area (for the area ranges), box and mask of one result, by pycocotools' loadRes rule applied to
    /// the field the evaluation type reads: for mask types the segmentation's pixel count (a box only stands
    /// in for a missing segmentation, as its polygon); for boxes w*h (the mask's pixel count and bounding box
    /// only for a result without one). Keying on the type rather than on which fields the result carries is
    /// what detectron2 does by dropping boxes before mask evaluation, and it makes results evaluated in memory
    /// and the same results written with boxes and read back get the same areas.
    /// </summary>
    internal static (double Area, CocoBox Box, Rle? Mask) ReadResult(CocoAnnotation result, CocoImage image, IouType iouType, string what)
    {
        if (iouType == IouType.Bbox && result.Box is { } box) return (box.Width * box.Height, box, null);
        if (result.Segmentation is { } segmentation)
        {
            var mask = ToMask(segmentation, image, what);
            return (mask.Area, result.Box ?? mask.ToBox(), iouType == IouType.Bbox ? null : mask);
        }
        if (result.Box is { } onlyBox) return (onlyBox.Width * onlyBox.Height, onlyBox, Rle.FromBox(onlyBox, image.Height, image.Width));
        throw new CocoFormatException($"{what} has neither a bbox nor a segmentation");
    }

    private static Rle ToMask(CocoSegmentation segmentation, CocoImage image, string what)
    {
        Rle mask;
        try
        {
            mask = segmentation.ToRle(image.Height, image.Width);
        }
        catch (FormatException e)
        {
            throw new CocoFormatException($"{what}: {e.Message}", e);
        }
        if (mask.Height != image.Height || mask.Width != image.Width)
            throw new CocoFormatException($"{what}: mask is {mask.Height}x{mask.Width} but image {image.Id} is {image.Height}x{image.Width}");
        return mask;
    }

    private static List<ImageCategoryEval> EvaluateImage(CocoImage image, List<Gt> gts, List<Dt> dts, IouType iouType,
        EvaluationSubset[] subsets, bool useOcclusion)
    {
        var evals = new List<ImageCategoryEval>();
        if (gts.Count == 0 && dts.Count == 0) return evals;
        if (iouType != IouType.Bbox)
            foreach (var g in gts) g.Mask = ToMask(g.Annotation.Segmentation!, image, $"annotation {g.Annotation.Id}");
        if (useOcclusion) ComputeOcclusion(gts);

        foreach (int category in gts.Select(g => g.Category).Concat(dts.Select(d => d.Category)).Distinct().Order())
        {
            var g = gts.Where(x => x.Category == category).ToList();
            var d = SortByScore(dts.Where(x => x.Category == category).ToList());
            if (d.Count > MaxDetectionsPerImage) d.RemoveRange(MaxDetectionsPerImage, d.Count - MaxDetectionsPerImage);
            var ious = ComputeIous(d, g, iouType);
            var matches = new SubsetMatch[subsets.Length];
            for (int a = 0; a < subsets.Length; a++) matches[a] = Match(d, g, ious, subsets[a]);
            evals.Add(new ImageCategoryEval(category, d.Select(x => x.Score).ToArray(), matches));
        }
        return evals;
    }

    /// <summary>np.argsort(-score, kind='mergesort'): descending score, ties in input order.</summary>
    private static List<Dt> SortByScore(List<Dt> dts)
    {
        var order = Enumerable.Range(0, dts.Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            int c = (-dts[a].Score).CompareTo(-dts[b].Score);
            return c != 0 ? c : a.CompareTo(b);
        });
        return order.Select(i => dts[i]).ToList();
    }

    /// <summary>Share of each instance's pixel box covered by the union of the other annotations' masks.</summary>
    private static void ComputeOcclusion(List<Gt> gts)
    {
        for (int i = 0; i < gts.Count; i++)
        {
            var mask = gts[i].Mask!;
            var box = mask.ToBox();
            long boxPixels = (long)box.Width * (long)box.Height;
            if (boxPixels == 0 || gts.Count == 1) { gts[i].Occlusion = 0; continue; }
            var others = new List<Rle>(gts.Count - 1);
            for (int j = 0; j < gts.Count; j++) if (j != i) others.Add(gts[j].Mask!);
            var union = Rle.Merge(others);
            int x0 = (int)box.X, y0 = (int)box.Y;
            gts[i].Occlusion = (double)union.CountInRectangle(x0, y0, x0 + (int)box.Width, y0 + (int)box.Height) / boxPixels;
        }
    }

    /// <summary>IoU matrix [detection, ground truth]; Boundary IoU keeps the plain mask IoU for crowd regions.</summary>
    private static double[,] ComputeIous(List<Dt> dts, List<Gt> gts, IouType iouType)
    {
        var ious = new double[dts.Count, gts.Count];
        for (int d = 0; d < dts.Count; d++)
            for (int g = 0; g < gts.Count; g++)
            {
                bool crowd = gts[g].Annotation.IsCrowd;
                if (iouType == IouType.Bbox)
                {
                    ious[d, g] = Rle.BoxIou(dts[d].Box, gts[g].Annotation.Box!.Value, crowd);
                    continue;
                }
                double iou = Rle.Iou(dts[d].Mask!, gts[g].Mask!, crowd);
                // min(mask IoU, boundary IoU) is 0 whenever the masks do not overlap, so boundaries are only built when needed.
                if (iouType == IouType.Boundary && !crowd && iou > 0)
                {
                    dts[d].Boundary ??= MaskBoundary.Boundary(dts[d].Mask!);
                    gts[g].Boundary ??= MaskBoundary.Boundary(gts[g].Mask!);
                    iou = Math.Min(iou, Rle.Iou(dts[d].Boundary!, gts[g].Boundary!, false));
                }
                ious[d, g] = iou;
            }
        return ious;
    }

    /// <summary>evaluateImg's greedy matching for one subset, at every IoU threshold.</summary>
    private static SubsetMatch Match(List<Dt> dts, List<Gt> gts, double[,] ious, EvaluationSubset subset)
    {
        int G = gts.Count, D = dts.Count;
        var thresholds = EvaluationParams.IouThresholds;
        int T = thresholds.Length;
        var ignoreGt = gts.Select(g => g.Annotation.IsCrowd || !subset.ContainsGroundTruth(g.Annotation.Area!.Value, g.Occlusion)).ToArray();
        // Ignored ground truth goes last, otherwise in annotation order (a stable sort).
        var order = Enumerable.Range(0, G).Where(i => !ignoreGt[i]).Concat(Enumerable.Range(0, G).Where(i => ignoreGt[i])).ToArray();
        int nonIgnored = ignoreGt.Count(x => !x);
        var matched = new bool[T * D];
        var ignored = new bool[T * D];
        var gtTaken = new bool[G];
        for (int t = 0; t < T; t++)
        {
            Array.Clear(gtTaken);
            for (int d = 0; d < D; d++)
            {
                double best = Math.Min(thresholds[t], 1 - 1e-10);
                int m = -1;
                for (int k = 0; k < G; k++)
                {
                    int g = order[k];
                    if (gtTaken[k] && !gts[g].Annotation.IsCrowd) continue;
                    if (m > -1 && !ignoreGt[order[m]] && ignoreGt[g]) break;
                    if (ious[d, g] < best) continue;
                    best = ious[d, g];
                    m = k;
                }
                if (m == -1) continue;
                ignored[t * D + d] = ignoreGt[order[m]];
                // COCOeval records the matched ground truth's id; an id of 0 reads as "unmatched" downstream.
                matched[t * D + d] = gts[order[m]].Annotation.Id != 0;
                gtTaken[m] = true;
            }
            for (int d = 0; d < D; d++)
                if (!matched[t * D + d] && !subset.ContainsDetectionArea(dts[d].Area)) ignored[t * D + d] = true;
        }
        return new SubsetMatch(matched, ignored, nonIgnored);
    }

    private static EvaluationResult Accumulate(List<ImageCategoryEval>[] perImage, int K, EvaluationSubset[] subsets, IouType iouType)
    {
        var iouThrs = EvaluationParams.IouThresholds;
        var recThrs = EvaluationParams.RecallThresholds;
        var maxDets = EvaluationParams.MaxDetections;
        int T = iouThrs.Length, R = recThrs.Length, A = subsets.Length, M = maxDets.Length;
        var precision = new double[T * R * K * A * M];
        var recall = new double[T * K * A * M];
        Array.Fill(precision, -1);
        Array.Fill(recall, -1);
        var gtCounts = new long[A];

        // Per category, the image evaluations in ascending image-id order (images without any are skipped like None).
        var byCategory = new List<ImageCategoryEval>[K];
        for (int k = 0; k < K; k++) byCategory[k] = [];
        foreach (var list in perImage)
            foreach (var e in list) byCategory[e.Category].Add(e);
        for (int a = 0; a < A; a++) gtCounts[a] = byCategory.Sum(l => l.Sum(e => (long)e.Subsets[a].NonIgnoredGt));

        Parallel.For(0, K, k =>
        {
            var evals = byCategory[k];
            if (evals.Count == 0) return;
            for (int a = 0; a < A; a++)
            {
                int npig = evals.Sum(e => e.Subsets[a].NonIgnoredGt);
                if (npig == 0) continue;
                for (int m = 0; m < M; m++)
                {
                    int maxDet = maxDets[m];
                    var scores = new List<double>();
                    var source = new List<(SubsetMatch Match, int D, int Index)>();
                    foreach (var e in evals)
                    {
                        int take = Math.Min(maxDet, e.Scores.Length);
                        for (int d = 0; d < take; d++) { scores.Add(e.Scores[d]); source.Add((e.Subsets[a], e.Scores.Length, d)); }
                    }
                    int nd = scores.Count;
                    var order = Enumerable.Range(0, nd).ToArray();
                    Array.Sort(order, (x, y) =>
                    {
                        int c = (-scores[x]).CompareTo(-scores[y]);
                        return c != 0 ? c : x.CompareTo(y);
                    });
                    var rc = new double[nd];
                    var pr = new double[nd];
                    for (int t = 0; t < T; t++)
                    {
                        double tp = 0, fp = 0;
                        for (int i = 0; i < nd; i++)
                        {
                            var (match, D, d) = source[order[i]];
                            bool isMatched = match.Matched[t * D + d], isIgnored = match.Ignored[t * D + d];
                            if (!isIgnored) { if (isMatched) tp++; else fp++; }
                            rc[i] = tp / npig;
                            pr[i] = tp / (fp + tp + NumpySpacingOfOne);
                        }
                        recall[((t * K + k) * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0;
                        for (int i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
                        // Recall levels beyond the highest recall reached keep precision 0, as in COCOeval.
                        for (int ri = 0; ri < R; ri++)
                        {
                            int pi = SearchSortedLeft(rc, recThrs[ri]);
                            precision[(((t * R + ri) * K + k) * A + a) * M + m] = pi < nd ? pr[pi] : 0;
                        }
                    }
                }
            }
        });
        return new EvaluationResult(iouType, subsets, K, precision, recall, gtCounts);
    }

    /// <summary>np.searchsorted(side='left') on a non-decreasing array: the first index whose value is ≥ x.</summary>
    private static int SearchSortedLeft(double[] values, double x)
    {
        int lo = 0, hi = values.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (values[mid] < x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
