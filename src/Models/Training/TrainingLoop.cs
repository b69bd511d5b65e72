using System.Diagnostics;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Optim;

namespace NativeSeg.Models.Training;

/// <summary>
/// The iteration loop every family's trainer shares: resuming from the run's checkpoint, the learning rate per
/// iteration, metrics and progress lines, checkpoints every K iterations and at the end, and a stop on cancellation
/// that checkpoints first. The family supplies one step: forward, losses, backward and the optimiser update.
/// </summary>
public static class TrainingLoop
{
    /// <summary>Restores the run's checkpoint into the model and optimiser when resuming; returns the iterations it had done.</summary>
    public static int Resume(TrainingRunSettings run, Module model, SgdOptimizer optimizer, TextWriter log)
    {
        if (!run.Resume) return 0;
        if (!File.Exists(run.CheckpointPath))
        {
            log.WriteLine($"no checkpoint in {run.OutputDirectory}: starting from {run.ModelPath}");
            return 0;
        }
        int done = TrainingCheckpoint.Restore(run.CheckpointPath, model, optimizer);
        log.WriteLine($"resuming from {run.CheckpointPath} after {done} iterations");
        return done;
    }

    /// <summary>
    /// Runs iterations <paramref name="done"/> to the run's end; returns false when <paramref name="cancel"/> stopped it
    /// (after a checkpoint), true when every iteration ran and the last checkpoint is written.
    /// </summary>
    /// <param name="step">One iteration at (index, learning rate): the loss terms, whose sum is the logged loss.</param>
    public static bool Run(TrainingRunSettings run, Module model, SgdOptimizer optimizer, IReadOnlyDictionary<string, string> checkpointMetadata,
        int done, Func<int, float> learningRate, Func<int, float, IReadOnlyList<(string Name, double Value)>> step,
        TextWriter log, Action<IterationReport> progress, CancellationToken cancel)
    {
        using var metrics = MetricsLog.Open(run.MetricsPath, done);
        for (int i = done; i < run.Iterations; i++)
        {
            if (cancel.IsCancellationRequested)
            {
                TrainingCheckpoint.Write(run.CheckpointPath, model, optimizer, checkpointMetadata, i);
                log.WriteLine($"stopped after {i} iterations; `--resume` continues from {run.CheckpointPath}");
                return false;
            }
            var clock = Stopwatch.StartNew();
            float lr = learningRate(i);
            var terms = step(i, lr);
            double total = terms.Sum(t => t.Value);
            metrics.Append(i, lr, total, terms, clock.Elapsed.TotalSeconds);
            progress(new IterationReport(i, run.Iterations, lr, total, terms, clock.Elapsed.TotalSeconds));
            if ((i + 1) % run.CheckpointEvery == 0 || i + 1 == run.Iterations)
                TrainingCheckpoint.Write(run.CheckpointPath, model, optimizer, checkpointMetadata, i + 1);
        }
        return true;
    }
}
