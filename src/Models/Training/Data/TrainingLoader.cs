using System.Collections.Concurrent;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Training.Data;

/// <summary>
/// Streams training batches for iterations <c>startIteration</c>, +1, +2, … Images are decoded and augmented
/// by <c>workers</c> background threads, at most <c>prefetch</c> batches ahead of the caller, so memory stays
/// bounded however slow a training step is. Batch i is the same for any worker count and any start iteration,
/// which is what makes resuming from a checkpoint reproduce the run.
/// </summary>
public sealed class TrainingLoader : IDisposable
{
    private readonly CocoTrainingSet _set;
    private readonly TrainingAugmentation _augmentation;
    private readonly PreprocessConfig _preprocess;
    private readonly MaskRcnnConfig _model;
    private readonly SampleSchedule _schedule;
    private readonly BlockingCollection<(PendingBatch Batch, int Slot)> _jobs = new();
    private readonly Queue<PendingBatch> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _workers;
    private long _nextScheduled;
    private bool _disposed;

    public TrainingLoader(CocoTrainingSet set, TrainingAugmentation augmentation, PreprocessConfig preprocess, MaskRcnnConfig model,
        int batchSize, ulong seed, int workers, long startIteration = 0, int prefetch = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefetch, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(startIteration);
        // Checked here so a class-mapping mismatch stops training at once, not in a worker at the first image that shows it.
        foreach (var category in set.Categories)
        {
            int logit = Array.IndexOf(model.CategoryIds, category.Id);
            if (logit < 0 || logit == model.BackgroundIndex)
                throw new TrainingDataException($"{set.AnnotationsPath}: category {category.Id} ('{category.Name}') is not one of the model's classes");
        }
        (_set, _augmentation, _preprocess, _model) = (set, augmentation, preprocess, model);
        _schedule = new SampleSchedule(set.Images.Count, batchSize, seed, augmentation);
        NextIteration = _nextScheduled = startIteration;
        _workers = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            _workers[w] = new Thread(Work) { IsBackground = true, Name = $"nativeseg-data-{w}" };
            _workers[w].Start();
        }
        for (int i = 0; i < prefetch; i++) Schedule();
    }

    /// <summary>The iteration the next call to <see cref="Next"/> returns.</summary>
    public long NextIteration { get; private set; }

    /// <summary>
    /// Waits for the next batch; the caller owns (disposes) it. A batch that could not be built throws a
    /// <see cref="TrainingDataException"/> naming the image; the stream then goes on with the next iteration.
    /// </summary>
    public TrainingBatch Next()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pending = _pending.Dequeue();
        NextIteration++;
        try
        {
            return pending.Result.Task.GetAwaiter().GetResult();
        }
        finally
        {
            Schedule();
        }
    }

    private void Schedule()
    {
        long iteration = _nextScheduled++;
        var batch = new PendingBatch(iteration, _schedule.Batch(iteration));
        _pending.Enqueue(batch);
        for (int k = 0; k < batch.Plans.Length; k++) _jobs.Add((batch, k));
    }

    private void Work()
    {
        try
        {
            while (_jobs.TryTake(out var job, Timeout.Infinite, _stop.Token)) Build(job.Batch, job.Slot);
        }
        catch (OperationCanceledException)
        {
            // Dispose stopped the loader; unfinished batches are cleaned up there.
        }
    }

    private void Build(PendingBatch batch, int slot)
    {
        var plan = batch.Plans[slot];
        if (batch.Error is null)
        {
            string path = _set.ImagePath(plan.ImageIndex);
            var info = _set.Images[plan.ImageIndex];
            try
            {
                var image = ImageFile.Read(path);
                if (image.Width != info.Width || image.Height != info.Height)
                    throw new FormatException($"decoded size {image.Width}x{image.Height} differs from {info.Width}x{info.Height} in the annotation file");
                batch.Samples[slot] = _augmentation.Apply(image, _set.AnnotationsOf(plan.ImageIndex), plan.MinSize, plan.Flip, _preprocess, _model);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref batch.Error, new TrainingDataException($"training image {info.Id} ({path}): {e.Message}", e), null);
            }
        }
        if (Interlocked.Decrement(ref batch.Remaining) == 0) Complete(batch);
    }

    private void Complete(PendingBatch batch)
    {
        try
        {
            if (batch.Error is not null) throw batch.Error;
            var sources = batch.Plans.Select(p => (_set.Images[p.ImageIndex].Id, _set.Images[p.ImageIndex].FileName, p)).ToList();
            batch.Result.SetResult(TrainingBatch.Assemble(batch.Iteration, batch.Samples!, sources));
        }
        catch (Exception e)
        {
            batch.Result.SetException(e);
        }
        finally
        {
            batch.DisposeSamples();
        }
    }

    /// <summary>Stops the workers (each finishes the image it is on) and frees every batch built but not taken.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        _jobs.CompleteAdding();
        foreach (var worker in _workers) worker.Join();
        foreach (var batch in _pending)
        {
            if (batch.Result.Task.IsCompletedSuccessfully) batch.Result.Task.Result.Dispose();
            else batch.DisposeSamples();
        }
        _pending.Clear();
        _jobs.Dispose();
        _stop.Dispose();
    }

    private sealed class PendingBatch(long iteration, SamplePlan[] plans)
    {
        public readonly long Iteration = iteration;
        public readonly SamplePlan[] Plans = plans;
        public readonly AugmentedSample?[] Samples = new AugmentedSample?[plans.Length];
        public readonly TaskCompletionSource<TrainingBatch> Result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Remaining = plans.Length;
        public TrainingDataException? Error;

        public void DisposeSamples()
        {
            for (int i = 0; i < Samples.Length; i++)
            {
                Samples[i]?.Dispose();
                Samples[i] = null;
            }
        }
    }
}
