using NativeSeg.Engine.Randomness;
using NativeSeg.Kernels.BoxCoder;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// One image's RPN targets over all anchors [A, 4] (levels concatenated as the RPN head flattens them):
/// <see cref="Match"/> holds each anchor's matched GT and label before sampling (1 object, 0 background,
/// −1 ignored), <see cref="Deltas"/> [A, 4] the (1, 1, 1, 1)-weighted deltas to the matched GT for label-1
/// anchors and 0 elsewhere (upstream encodes every anchor, but its losses read the positive rows only).
/// </summary>
public sealed record RpnTargets(MatchResult Match, float[] Deltas)
{
    /// <summary>
    /// Matches anchors to the GT boxes with <see cref="MaskRcnnTrainingConfig.RpnMatcher"/> (torchvision's
    /// assign_targets_to_anchors, detectron2's label_and_sample_anchors before subsampling). Anchors crossing the
    /// image border take part unless <see cref="MaskRcnnTrainingConfig.AnchorBoundaryThreshold"/> is ≥ 0.
    /// </summary>
    public static RpnTargets Assign(float[] anchors, GroundTruth gt, MaskRcnnTrainingConfig config)
    {
        if (anchors.Length % 4 != 0) throw new ArgumentException($"anchors must be [A, 4], got {anchors.Length} values", nameof(anchors));
        int count = anchors.Length / 4;
        var match = config.RpnMatcher.Match(HostBoxes.Iou(gt.Boxes, anchors, config.IouZeroArea), gt.Count, count);
        if (config.AnchorBoundaryThreshold >= 0) IgnoreOutside(anchors, gt, config.AnchorBoundaryThreshold, match.Labels);
        int[] positive = [.. match.Labels.Select((label, i) => label == 1 ? match.Matches[i] : -1)];
        return new(match, HostBoxes.MatchedDeltas(anchors, gt.Boxes, positive, BoxWeights.Rpn));
    }

    /// <summary>Per-anchor loss labels: 1 and 0 for the sampled anchors, −1 for every other one.</summary>
    public sbyte[] SampledLabels(SampledIndices sampled)
    {
        var labels = new sbyte[Match.Labels.Length];
        Array.Fill(labels, (sbyte)-1);
        foreach (int i in sampled.Positive) labels[i] = 1;
        foreach (int i in sampled.Negative) labels[i] = 0;
        return labels;
    }

    /// <summary>Draws the anchors for the loss with the config's RPN batch size and positive fraction.</summary>
    public SampledIndices Sample(MaskRcnnTrainingConfig config, SplitMix64 rng) =>
        BalancedSampler.Sample(Match.Labels, config.RpnBatchSizePerImage, config.RpnPositiveFraction, rng);

    /// <summary>detectron2's Boxes.inside_box: x1 ≥ −t, y1 ≥ −t, x2 &lt; W + t, y2 &lt; H + t.</summary>
    private static void IgnoreOutside(float[] anchors, GroundTruth gt, float threshold, sbyte[] labels)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            var a = anchors.AsSpan(i * 4, 4);
            bool inside = a[0] >= -threshold && a[1] >= -threshold && a[2] < gt.Width + threshold && a[3] < gt.Height + threshold;
            if (!inside) labels[i] = -1;
        }
    }
}
