using NativeSeg.Engine.Devices;

namespace NativeSeg.Models.Training;

/// <summary>
/// What every `nativeseg train` run is asked, whatever the family: the data, the output folder, SGD's settings, the
/// seed, the device and checkpointing. A family's run adds its schedule and data settings and their checks.
/// </summary>
public abstract record TrainingRunSettings
{
    public required string ModelPath { get; init; }

    public required string AnnotationsPath { get; init; }

    public required string ImagesDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public required int Iterations { get; init; }

    public required int BatchSize { get; init; }

    public required float LearningRate { get; init; }

    public float Momentum { get; init; } = 0.9f;

    /// <summary>The family's upstream default unless set.</summary>
    public abstract float WeightDecay { get; init; }

    public bool Flip { get; init; } = true;

    public ulong Seed { get; init; }

    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Write a checkpoint every this many iterations (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 500;

    public bool Resume { get; init; }

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
        : CheckpointEvery < 1 ? $"--checkpoint-every must be at least 1, got {CheckpointEvery}"
        : FamilyProblem();

    /// <summary>The first problem with the family's own settings, or null.</summary>
    protected abstract string? FamilyProblem();
}
