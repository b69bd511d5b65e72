using NativeSeg.Engine.Devices;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>What `nativeseg train` was asked to do; defaults are torchvision's reference recipe where the issue names none.</summary>
public sealed record TrainingRun
{
    public required string ModelPath { get; init; }

    public required string AnnotationsPath { get; init; }

    public required string ImagesDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public required int Iterations { get; init; }

    public required int BatchSize { get; init; }

    public required float LearningRate { get; init; }

    public float Momentum { get; init; } = 0.9f;

    public float WeightDecay { get; init; } = 1e-4f;

    public int WarmupIterations { get; init; }

    public float WarmupFactor { get; init; } = 0.001f;

    public IReadOnlyList<int> Steps { get; init; } = [];

    public float Gamma { get; init; } = 0.1f;

    /// <summary>Shortest-edge sizes picked per image; null: the model's test size.</summary>
    public IReadOnlyList<int>? MinSizes { get; init; }

    /// <summary>Longest-edge cap; null: the model's.</summary>
    public int? MaxSize { get; init; }

    public bool Flip { get; init; } = true;

    public ulong Seed { get; init; }

    /// <summary>Threads decoding and augmenting images ahead of the step.</summary>
    public int DataWorkers { get; init; } = 2;

    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Write a checkpoint every this many iterations (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 500;

    public bool Resume { get; init; }

    /// <summary>Clip gradients to this global L2 norm; null: no clipping (both frameworks' default).</summary>
    public double? ClipGradientNorm { get; init; }

    /// <summary>Write model_final.safetensors in float16 (checkpoints stay float32, so a resumed run loses nothing).</summary>
    public bool Fp16Model { get; init; }

    public string CheckpointPath => Path.Combine(OutputDirectory, "checkpoint.safetensors");

    public string FinalModelPath => Path.Combine(OutputDirectory, "model_final.safetensors");

    public string MetricsPath => Path.Combine(OutputDirectory, "metrics.jsonl");

    /// <summary>The first problem with the settings, or null.</summary>
    public string? Problem() =>
        Iterations < 1 ? $"--iters must be at least 1, got {Iterations}"
        : BatchSize < 1 ? $"--batch must be at least 1, got {BatchSize}"
        : !(LearningRate > 0) || !float.IsFinite(LearningRate) ? $"--lr must be a positive number, got {LearningRate}"
        : Momentum is not (>= 0 and < 1) ? $"--momentum must be in [0, 1), got {Momentum}"
        : WeightDecay is not (>= 0 and < float.PositiveInfinity) ? $"--weight-decay must be a finite number, not negative, got {WeightDecay}"
        : WarmupIterations < 0 ? $"--warmup-iters must not be negative, got {WarmupIterations}"
        : WarmupFactor is not (> 0 and <= 1) ? $"--warmup-factor must be in (0, 1], got {WarmupFactor}"
        : Gamma is not (> 0 and < float.PositiveInfinity) ? $"--gamma must be a positive number, got {Gamma}"
        : Steps.Any(s => s < 1) ? "--steps must be positive iteration numbers"
        : MinSizes is { } sizes && (sizes.Count == 0 || sizes.Any(s => s < 1)) ? "--min-size takes positive sizes, e.g. 640,672,704"
        : MaxSize is < 1 ? $"--max-size must be positive, got {MaxSize}"
        : CheckpointEvery < 1 ? $"--checkpoint-every must be at least 1, got {CheckpointEvery}"
        : ClipGradientNorm is { } clip && clip is not (> 0 and < double.PositiveInfinity) ? $"--clip-grad-norm must be a positive number, got {ClipGradientNorm}"
        : null;
}
