using NativeSeg.Engine.Randomness;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>How a training step draws the anchors of the RPN loss and the RoIs of the heads' losses, per image.</summary>
public interface ISampling
{
    SampledIndices Anchors(int image, RpnTargets targets, MaskRcnnTrainingConfig config);

    /// <summary>The sampled RoIs of image <paramref name="image"/> from the RPN's <paramref name="proposals"/> [P, 4] (GT boxes are appended here).</summary>
    ProposalTargets Proposals(int image, float[] proposals, GroundTruth truth, MaskRcnnTrainingConfig config, MaskRcnnConfig model);
}

/// <summary>
/// Balanced sampling from one seeded generator, drawn image after image, anchors before RoIs. A trainer seeds it
/// from (run seed, iteration), so a resumed run draws what the uninterrupted one drew.
/// </summary>
public sealed class SeededSampling(ulong seed) : ISampling
{
    private readonly SplitMix64 _rng = new(seed);

    public SampledIndices Anchors(int image, RpnTargets targets, MaskRcnnTrainingConfig config) => targets.Sample(config, _rng);

    public ProposalTargets Proposals(int image, float[] proposals, GroundTruth truth, MaskRcnnTrainingConfig config, MaskRcnnConfig model) =>
        ProposalTargets.Build(proposals, truth, config, model, _rng);
}
