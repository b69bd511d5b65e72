using NativeSeg.Models.Training;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>What `nativeseg train` was asked to do; defaults are torchvision's reference recipe where the issue names none.</summary>
public sealed record TrainingRun : TrainingRunSettings
{
    public override float WeightDecay { get; init; } = 1e-4f;

    public int WarmupIterations { get; init; }

    public float WarmupFactor { get; init; } = 0.001f;

    public IReadOnlyList<int> Steps { get; init; } = [];

    public float Gamma { get; init; } = 0.1f;

    /// <summary>Shortest-edge sizes picked per image; null: the model's test size.</summary>
    public IReadOnlyList<int>? MinSizes { get; init; }

    /// <summary>Longest-edge cap; null: the model's.</summary>
    public int? MaxSize { get; init; }

    /// <summary>Threads decoding and augmenting images ahead of the step.</summary>
    public int DataWorkers { get; init; } = 2;

    /// <summary>Clip gradients to this global L2 norm; null: no clipping (both frameworks' default).</summary>
    public double? ClipGradientNorm { get; init; }

    protected override string? FamilyProblem() =>
        WarmupIterations < 0 ? $"--warmup-iters must not be negative, got {WarmupIterations}"
        : WarmupFactor is not (> 0 and <= 1) ? $"--warmup-factor must be in (0, 1], got {WarmupFactor}"
        : Gamma is not (> 0 and < float.PositiveInfinity) ? $"--gamma must be a positive number, got {Gamma}"
        : Steps.Any(s => s < 1) ? "--steps must be positive iteration numbers"
        : MinSizes is { } sizes && (sizes.Count == 0 || sizes.Any(s => s < 1)) ? "--min-size takes positive sizes, e.g. 640,672,704"
        : MaxSize is < 1 ? $"--max-size must be positive, got {MaxSize}"
        : ClipGradientNorm is { } clip && clip is not (> 0 and < double.PositiveInfinity) ? $"--clip-grad-norm must be a positive number, got {ClipGradientNorm}"
        : null;
}
