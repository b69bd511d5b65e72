namespace NativeSeg.Models.Evaluation;

public enum IouType
{
    /// <summary>Mask IoU on run-length masks.</summary>
    Segm,
    /// <summary>Box IoU.</summary>
    Bbox,
    /// <summary>Boundary IoU (Cheng et al., CVPR 2021): min(mask IoU, IoU of the masks' inner boundary bands).</summary>
    Boundary,
}

/// <summary>
/// A subset of ground truth that AP is computed over, generalising COCOeval's area ranges. A ground truth
/// outside the subset is ignored like one outside an area range: detections matched to it are ignored.
/// An unmatched detection is ignored only when its own area falls outside [AreaMin, AreaMax], because a
/// detection has no occlusion ratio of its own — so in an occlusion subset every unmatched detection is a
/// false positive, as in COCOeval's "all" range.
/// </summary>
public sealed record EvaluationSubset(string Label, double AreaMin, double AreaMax, double OcclusionMin = 0, double OcclusionBelow = double.PositiveInfinity)
{
    public bool UsesOcclusion => OcclusionMin > 0 || !double.IsPositiveInfinity(OcclusionBelow);

    /// <summary>Area bounds are inclusive on both sides as in COCOeval; occlusion is [min, below).</summary>
    internal bool ContainsGroundTruth(double area, double occlusion) =>
        !(area < AreaMin || area > AreaMax) && occlusion >= OcclusionMin && occlusion < OcclusionBelow;

    internal bool ContainsDetectionArea(double area) => !(area < AreaMin || area > AreaMax);
}

/// <summary>COCOeval's default detection parameters, with their float64 values reproduced exactly.</summary>
public static class EvaluationParams
{
    /// <summary>np.linspace(.5, .95, 10): start + i·((stop − start)/9), last element exactly stop.</summary>
    public static readonly double[] IouThresholds = Linspace(0.5, 0.95, 10);

    /// <summary>np.linspace(0, 1, 101).</summary>
    public static readonly double[] RecallThresholds = Linspace(0.0, 1.0, 101);

    public static readonly int[] MaxDetections = [1, 10, 100];

    public static readonly EvaluationSubset[] AreaRanges =
    [
        new("all", 0, 1e10),
        new("small", 0, 32 * 32),
        new("medium", 32 * 32, 96 * 96),
        new("large", 96 * 96, 1e10),
    ];

    /// <summary>Occlusion ratio = share of the instance's box covered by other instances' masks.</summary>
    public static readonly EvaluationSubset[] OcclusionRanges =
    [
        new("occl<0.1", 0, 1e10, 0, 0.1),
        new("occl>=0.1", 0, 1e10, 0.1),
        new("occl<0.3", 0, 1e10, 0, 0.3),
        new("occl>=0.3", 0, 1e10, 0.3),
    ];

    private static double[] Linspace(double start, double stop, int num)
    {
        double step = (stop - start) / (num - 1);
        var values = new double[num];
        for (int i = 0; i < num; i++) values[i] = i * step + start;
        values[^1] = stop;
        return values;
    }
}
