using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>A reference detection: box (x1, y1, x2, y2), score, dataset category and, for the top ones, its mask.</summary>
internal sealed record ReferenceDetection(float[] Box, float Score, long CategoryId, byte[]? Mask);

/// <summary>
/// The parity criterion: each reference detection is matched to an unused one of ours with the same
/// category, box IoU ≥ 0.98 and |Δscore| ≤ 0.01 (or another score tolerance); matched masks are compared by IoU.
/// </summary>
internal static class DetectionMatching
{
    /// <param name="MaskIous">Of each matched detection whose reference has a mask, in reference order.</param>
    public sealed record Outcome(int Matched, int Total, double MinMaskIou, int MasksCompared, IReadOnlyList<double> MaskIous);

    /// <summary>
    /// The reduced-precision criterion: the <paramref name="count"/> highest-scoring of <paramref name="reference"/>'s instances
    /// with their masks, matched in <paramref name="ours"/> with <paramref name="scoreTolerance"/>; Top is how many were
    /// taken, Matched how many of those matched with a mask IoU of at least <paramref name="minMaskIou"/>.
    /// </summary>
    public static (int Matched, int Top, Outcome Outcome) MatchTop(IReadOnlyList<SegmentedInstance> reference, IReadOnlyList<SegmentedInstance> ours,
        int count, int width, int height, double scoreTolerance, double minMaskIou)
    {
        var top = reference.OrderByDescending(i => i.Score).Take(count)
            .Select(i => new ReferenceDetection([i.X1, i.Y1, i.X2, i.Y2], i.Score, i.CategoryId, i.Mask.ToRowMajor())).ToList();
        var outcome = Match(top, ours, width, height, scoreTolerance);
        return (outcome.MaskIous.Count(iou => iou >= minMaskIou), top.Count, outcome);
    }

    public static Outcome Match(IReadOnlyList<ReferenceDetection> reference, IReadOnlyList<SegmentedInstance> ours, int width, int height,
        double scoreTolerance = 0.01)
    {
        var used = new bool[ours.Count];
        int matched = 0;
        var maskIous = new List<double>();
        foreach (var r in reference)
        {
            int best = -1;
            double bestIou = 0;
            for (int j = 0; j < ours.Count; j++)
            {
                var o = ours[j];
                if (used[j] || o.CategoryId != r.CategoryId || Math.Abs(o.Score - r.Score) > scoreTolerance) continue;
                double iou = BoxIou(r.Box, [o.X1, o.Y1, o.X2, o.Y2]);
                if (iou >= 0.98 && iou > bestIou) (best, bestIou) = (j, iou);
            }
            if (best < 0) continue;
            used[best] = true;
            matched++;
            if (r.Mask is null) continue;
            maskIous.Add(Rle.Iou(ours[best].Mask, Rle.FromRowMajor(r.Mask, height, width), crowd: false));
        }
        return new Outcome(matched, reference.Count, maskIous.Count == 0 ? 1 : maskIous.Min(), maskIous.Count, maskIous);
    }

    /// <summary>
    /// The whole-image parity criteria: at least <paramref name="minMatched"/> of the reference's detections (95% when
    /// null) matched, as many masks compared, and every compared mask with IoU ≥ 0.95.
    /// </summary>
    /// <param name="what">Names the image in failure messages.</param>
    public static void AssertParity(IReadOnlyList<ReferenceDetection> reference, IReadOnlyList<SegmentedInstance> ours, int width, int height, string what, int? minMatched = null)
    {
        int least = minMatched ?? (int)Math.Ceiling(0.95 * reference.Count);
        var outcome = Match(reference, ours, width, height);
        Assert.True(outcome.Matched >= least, $"{what}: {outcome.Matched} of the reference's top {outcome.Total} detections matched");
        Assert.True(outcome.MasksCompared >= least, $"{what}: only {outcome.MasksCompared} masks compared");
        Assert.True(outcome.MinMaskIou >= 0.95, $"{what}: a matched mask has IoU {outcome.MinMaskIou:F4} with the reference's");
    }

    public static double BoxIou(float[] a, float[] b)
    {
        double iw = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0]));
        double ih = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        double inter = iw * ih, union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 0;
    }
}
