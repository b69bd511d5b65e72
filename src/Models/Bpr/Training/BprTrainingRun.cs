using NativeSeg.Models.Training;

namespace NativeSeg.Models.Bpr.Training;

/// <summary>What `nativeseg train` was asked to do with a BPR model; defaults are upstream's (configs/bpr, schedule_160k).</summary>
public sealed record BprTrainingRun : TrainingRunSettings
{
    /// <summary>The coarse results (COCO results JSON) on the training images that patches are cut along.</summary>
    public required string CoarsePath { get; init; }

    public override float WeightDecay { get; init; } = 5e-4f;

    /// <summary>Poly decay's floor (mmseg's min_lr).</summary>
    public float MinLearningRate { get; init; } = 1e-4f;

    /// <summary>Cut patches from at most this many matched coarse results (split_patches.py --sample-inst); null: all.</summary>
    public int? MaxInstances { get; init; }

    protected override string? FamilyProblem() =>
        !(MinLearningRate >= 0) || MinLearningRate > LearningRate ? $"the minimum learning rate {MinLearningRate} must lie in [0, --lr]"
        : MaxInstances is < 1 ? $"--sample-instances must be at least 1, got {MaxInstances}"
        : null;
}
