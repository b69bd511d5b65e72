using NativeSeg.Engine.Randomness;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// The proposals of one image with the GT boxes appended (both flavours add them after the proposals),
/// matched to the GT with <see cref="MaskRcnnTrainingConfig.RoiMatcher"/>.
/// </summary>
public sealed record ProposalMatching(float[] Boxes, MatchResult Match);

/// <summary>
/// The sampled RoIs of one image for the box and mask heads: boxes [S, 4]; class labels as logit indices
/// (the model's background index for background, −1 for ignored); the matched GT index (−1 unless
/// foreground); regression deltas [S, 4] weighted (10, 10, 5, 5) for foreground rows and 0 elsewhere
/// (the box loss reads foreground rows only).
/// </summary>
public sealed record ProposalTargets(float[] Boxes, int[] Classes, int[] MatchedGt, float[] Deltas)
{
    public int Count => Classes.Length;

    /// <summary>Indices of the foreground rows, which carry box deltas and mask targets.</summary>
    public int[] Foreground(MaskRcnnConfig model) =>
        [.. Enumerable.Range(0, Count).Where(i => Classes[i] >= 0 && Classes[i] != model.BackgroundIndex)];

    /// <summary>Appends the GT boxes to <paramref name="proposals"/> [P, 4] and matches them (torchvision add_gt_proposals + assign_targets_to_proposals).</summary>
    public static ProposalMatching Match(float[] proposals, GroundTruth gt, MaskRcnnTrainingConfig config)
    {
        if (proposals.Length % 4 != 0) throw new ArgumentException($"proposals must be [P, 4], got {proposals.Length} values", nameof(proposals));
        float[] boxes = [.. proposals, .. gt.Boxes];
        var match = config.RoiMatcher.Match(HostBoxes.Iou(gt.Boxes, boxes, config.IouZeroArea), gt.Count, boxes.Length / 4);
        return new(boxes, match);
    }

    /// <summary>Draws the RoIs with the config's batch size and positive fraction.</summary>
    public static SampledIndices Sample(ProposalMatching matching, MaskRcnnTrainingConfig config, SplitMix64 rng) =>
        BalancedSampler.Sample(matching.Match.Labels, config.RoiBatchSizePerImage, config.RoiPositiveFraction, rng);

    /// <summary>The targets of the <paramref name="sampled"/> rows, in the flavour's <see cref="SampleOrder"/>.</summary>
    public static ProposalTargets Select(ProposalMatching matching, SampledIndices sampled, GroundTruth gt, MaskRcnnTrainingConfig config, MaskRcnnConfig model)
    {
        int[] rows = config.SampleOrder == SampleOrder.IndexOrder
            ? [.. sampled.Positive.Concat(sampled.Negative).Order()]
            : [.. sampled.Positive, .. sampled.Negative];
        var labels = matching.Match.Labels;
        var classes = new int[rows.Length];
        var matched = new int[rows.Length];
        for (int k = 0; k < rows.Length; k++)
        {
            int i = rows[k];
            bool foreground = labels[i] == 1;
            matched[k] = foreground ? matching.Match.Matches[i] : -1;
            classes[k] = foreground ? gt.Classes[matched[k]] : labels[i] == 0 ? model.BackgroundIndex : -1;
        }
        var boxes = HostBoxes.Gather(matching.Boxes, rows);
        return new(boxes, classes, matched, HostBoxes.MatchedDeltas(boxes, gt.Boxes, matched, BoxWeights.RoiHeads));
    }

    /// <summary>Match, sample and select in one go.</summary>
    public static ProposalTargets Build(float[] proposals, GroundTruth gt, MaskRcnnTrainingConfig config, MaskRcnnConfig model, SplitMix64 rng)
    {
        var matching = Match(proposals, gt, config);
        return Select(matching, Sample(matching, config, rng), gt, config, model);
    }
}
