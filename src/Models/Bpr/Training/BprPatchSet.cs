using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoundaryPatches;
using NativeSeg.Models.Training.Data;

namespace NativeSeg.Models.Bpr.Training;

/// <summary>
/// BPR's training patches, built as upstream's tools build them (filter.py, then split_patches.py): every coarse
/// result whose best IoU with a non-crowd ground-truth instance of its category exceeds <see cref="MinIou"/> is kept
/// with that instance as its target, optionally a seeded sample of them (--sample-inst), and each kept mask gets
/// the patches inference would give it (same boundary, NMS and clamping), cut from the image, the coarse mask and
/// the target mask.
/// </summary>
public sealed class BprPatchSet
{
    /// <summary>filter.py's threshold: a coarse mask that matches no instance better than this teaches nothing.</summary>
    public const double MinIou = 0.5;

    private BprPatchSet(IReadOnlyList<BprPatch> patches, int candidates, int instances)
    {
        Patches = patches;
        Candidates = candidates;
        Instances = instances;
    }

    public IReadOnlyList<BprPatch> Patches { get; }

    /// <summary>Coarse results that matched a ground-truth instance.</summary>
    public int Candidates { get; }

    /// <summary>Matched results patches were cut from (all, or the sample).</summary>
    public int Instances { get; }

    private sealed record Match(int Image, Rle Coarse, Rle Truth);

    /// <param name="coarse">Coarse results (COCO results format) for the set's images, by image id.</param>
    /// <param name="maxInstances">Cut patches from at most this many matched results, drawn with <paramref name="seed"/>; null: all.</param>
    public static BprPatchSet Build(CocoTrainingSet set, IReadOnlyList<CocoAnnotation> coarse, string coarsePath, BprConfig config,
        int? maxInstances, ulong seed)
    {
        var indexOf = set.Images.Select((image, i) => (image.Id, i)).ToDictionary(p => p.Id, p => p.i);
        var byImage = new List<CocoAnnotation>[set.Images.Count];
        foreach (var result in coarse)
        {
            if (!indexOf.TryGetValue(result.ImageId, out int index))
                throw new TrainingDataException($"{coarsePath}: a result is for image_id {result.ImageId}, which {set.AnnotationsPath} does not train on");
            (byImage[index] ??= []).Add(result);
        }
        var matches = new List<Match>();
        for (int i = 0; i < byImage.Length; i++)
        {
            if (byImage[i] is { } results) matches.AddRange(MatchImage(set, i, results, coarsePath));
        }
        var chosen = maxInstances is { } cap && cap < matches.Count ? Sample(matches, cap, seed) : matches;
        var patches = new List<BprPatch>();
        foreach (var group in chosen.GroupBy(m => m.Image))
            patches.AddRange(Cut(set.ImagePath(group.Key), group.ToList(), config));
        return new BprPatchSet(patches, matches.Count, chosen.Count);
    }

    private static IEnumerable<Match> MatchImage(CocoTrainingSet set, int index, List<CocoAnnotation> results, string coarsePath)
    {
        var image = set.Images[index];
        var truths = set.AnnotationsOf(index).Where(a => !a.IsCrowd)
            .Select(a => (a.CategoryId, Mask: a.Segmentation!.ToRle(image.Height, image.Width))).ToList();
        foreach (var result in results)
        {
            var mask = result.Segmentation?.ToRle(image.Height, image.Width)
                ?? throw new TrainingDataException($"{coarsePath}: a result for image_id {image.Id} has no segmentation");
            if (mask.Height != image.Height || mask.Width != image.Width)
                throw new TrainingDataException($"{coarsePath}: a mask for image_id {image.Id} is {mask.Width}x{mask.Height}, the image {image.Width}x{image.Height}");
            var best = truths.Where(t => t.CategoryId == result.CategoryId)
                .Select(t => (t.Mask, Iou: Rle.Iou(mask, t.Mask, crowd: false)))
                .DefaultIfEmpty().MaxBy(t => t.Iou);
            if (best.Mask is not null && best.Iou > MinIou) yield return new Match(index, mask, best.Mask);
        }
    }

    /// <summary>A seeded sample of <paramref name="count"/> matches, kept in their original order.</summary>
    private static List<Match> Sample(List<Match> matches, int count, ulong seed)
    {
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var order = Enumerable.Range(0, matches.Count).ToArray();
        random.Shuffle(order);
        return [.. order.Take(count).Order().Select(i => matches[i])];
    }

    private static IEnumerable<BprPatch> Cut(string imagePath, List<Match> matches, BprConfig config)
    {
        var image = ImageFile.Read(imagePath).ToRgb();
        int h = image.Height, w = image.Width, side = config.PatchSize;
        var coarse = new byte[(long)matches.Count * h * w];
        var truth = new byte[coarse.Length];
        for (int k = 0; k < matches.Count; k++)
        {
            matches[k].Coarse.ToRowMajor().CopyTo(coarse.AsSpan(k * h * w));
            matches[k].Truth.ToRowMajor().CopyTo(truth.AsSpan(k * h * w));
        }
        int[] boxes;
        using (var masks = Tensor.FromArray(coarse, matches.Count, h, w))
        using (var proposals = BoundaryPatches.Propose(masks, side, config.IouThreshold))
            boxes = proposals.ToArray();
        for (int p = 0; p < boxes.Length / 3; p++)
        {
            int k = boxes[3 * p], x1 = boxes[3 * p + 1], y1 = boxes[3 * p + 2];
            var patch = new BprPatch(side, new byte[side * side * 3], new byte[side * side], new byte[side * side]);
            for (int y = 0; y < side; y++)
            {
                long row = (long)(y1 + y) * w + x1;
                Array.Copy(image.Pixels, row * 3, patch.Image, y * side * 3, side * 3);
                Array.Copy(coarse, k * h * w + row, patch.Coarse, y * side, side);
                Array.Copy(truth, k * h * w + row, patch.Truth, y * side, side);
            }
            yield return patch;
        }
    }
}
