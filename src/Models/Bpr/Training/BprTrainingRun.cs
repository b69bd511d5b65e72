using NativeSeg.Engine.Devices;

namespace NativeSeg.Models.Bpr.Training;

/// <summary>What `nativeseg train` was asked to do with a BPR model; defaults are upstream's (configs/bpr, schedule_160k).</summary>
public sealed record BprTrainingRun
{
    public required string ModelPath { get; init; }

    public required string AnnotationsPath { get; init; }

    public required string ImagesDirectory { get; init; }

    /// <summary>The coarse results (COCO results JSON) on the training images that patches are cut along.</summary>
    public required string CoarsePath { get; init; }

    public required string OutputDirectory { get; init; }

    public required int Iterations { get; init; }

    public required int BatchSize { get; init; }

    public required float LearningRate { get; init; }

    public float Momentum { get; init; } = 0.9f;

    public float WeightDecay { get; init; } = 5e-4f;

    /// <summary>Poly decay's floor (mmseg's min_lr).</summary>
    public float MinLearningRate { get; init; } = 1e-4f;

    /// <summary>Cut patches from at most this many matched coarse results (split_patches.py --sample-inst); null: all.</summary>
    public int? MaxInstances { get; init; }

    public bool Flip { get; init; } = true;

    public ulong Seed { get; init; }

    public Device Device { get; init; } = Device.Cpu;

    public int CheckpointEvery { get; init; } = 500;

    public bool Resume { get; init; }

    public bool Fp16Model { get; init; }

    public string CheckpointPath => Path.Combine(OutputDirectory, "checkpoint.safetensors");

    public string FinalModelPath => Path.Combine(OutputDirectory, "model_final.safetensors");

    public string MetricsPath => Path.Combine(OutputDirectory, "metrics.jsonl");

    /// <summary>The first problem with the settings, or null.</summary>
    public string? Problem() =>
        Iterations < 1 ? $"--iters must be at least 1, got {Iterations}"
        : BatchSize < 1 ? $"--batch must be at least 1, got {BatchSize}"
        : !(LearningRate > 0) || !float.IsFinite(LearningRate) ? $"--lr must be a positive number, got {LearningRate}"
        : !(MinLearningRate >= 0) || MinLearningRate > LearningRate ? $"the minimum learning rate {MinLearningRate} must lie in [0, --lr]"
        : Momentum is not (>= 0 and < 1) ? $"--momentum must be in [0, 1), got {Momentum}"
        : WeightDecay is not (>= 0 and < float.PositiveInfinity) ? $"--weight-decay must be a finite number, not negative, got {WeightDecay}"
        : MaxInstances is < 1 ? $"--sample-instances must be at least 1, got {MaxInstances}"
        : CheckpointEvery < 1 ? $"--checkpoint-every must be at least 1, got {CheckpointEvery}"
        : null;
}
