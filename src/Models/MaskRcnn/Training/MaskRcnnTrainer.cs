using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Optim;
using NativeSeg.Models.Training;
using NativeSeg.Models.Training.Data;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// Trains a Mask R-CNN on a COCO dataset: SGD with momentum and weight decay, linear warmup and step decay,
/// stem and res2 frozen with every BatchNorm (as both frameworks finetune) unless the model's config says otherwise
/// (trainable_backbone_layers; "norm": "BN" for a model from `nativeseg init`), checkpoints with optimiser state
/// written atomically, and a resume that reproduces the uninterrupted run iteration for iteration.
/// </summary>
public static class MaskRcnnTrainer
{
    /// <summary>
    /// Runs <paramref name="run"/>; everything that can be checked (settings, annotations, images, categories, the
    /// model file) is checked before the first iteration. Stops early, after a checkpoint, when <paramref name="cancel"/> fires.
    /// </summary>
    public static void Run(TrainingRun run, TextWriter log, Action<IterationReport> progress, CancellationToken cancel)
    {
        if (run.Problem() is { } problem) throw new ArgumentException(problem);
        var set = CocoTrainingSet.Open(run.AnnotationsPath, run.ImagesDirectory);
        Directory.CreateDirectory(run.OutputDirectory);
        var start = FinetuneStart.Load(run.ModelPath, set.Categories, run.Device, (int)(run.Seed & 0x7fffffff));
        using var model = start.Model;
        if (start.Reinitialised.Count > 0)
            log.WriteLine($"the annotations have categories the model does not ({string.Join(", ", set.Categories.Select(c => c.Name))}): " +
                $"re-initialised {string.Join(", ", start.Reinitialised)}; everything else keeps the model's weights");
        var setup = model.Setup;
        var trainingConfig = MaskRcnnTrainingConfig.For(setup.Heads.Flavour, start.Metadata.GetValueOrDefault("config"), run.ModelPath);
        model.Backbone.Body.FreezeThrough(trainingConfig.LastFrozenStage);
        // Trainable BatchNorms (a config with "norm": "BN") normalise with batch statistics, as torch's train() mode.
        foreach (var norm in model.Modules().OfType<BatchNorm2d>()) norm.Training = true;
        using var optimizer = new SgdOptimizer(model.TrainableParameters(), run.Momentum, run.WeightDecay);
        int done = TrainingLoop.Resume(run, model, optimizer, log);

        var preprocess = setup.Preprocess;
        var augmentation = new TrainingAugmentation([.. run.MinSizes ?? [preprocess.MinSize]], run.MaxSize ?? preprocess.MaxSize, run.Flip);
        var schedule = new LearningRateSchedule(run.LearningRate, run.WarmupIterations, run.WarmupFactor, run.Steps, run.Gamma);
        var losses = new MaskRcnnLosses(model, trainingConfig);
        using var loader = new TrainingLoader(set, augmentation, preprocess, setup.Heads, run.BatchSize, run.Seed, run.DataWorkers, done);
        log.WriteLine($"training {setup.Architecture} on {run.Device}: {set.Images.Count} images, {set.Categories.Count} categories, " +
            $"{model.TrainableParameters().Sum(p => p.Value.Numel):N0} trainable parameters, iterations {done + 1}..{run.Iterations}");

        if (!TrainingLoop.Run(run, model, optimizer, start.Metadata, done, schedule.At,
                (i, lr) => Step(model, optimizer, losses, loader, run, i, lr), log, progress, cancel))
            return;
        var trained = MaskRcnnTrainingConfig.WithoutRunSettings(start.Metadata, out var removed);
        TrainingCheckpoint.WriteModel(run.FinalModelPath, model, trained, run.Fp16Model);
        log.WriteLine($"wrote {run.FinalModelPath}" + (removed.Count > 0
            ? $" (without this run's settings {string.Join(", ", removed)}: finetuning it freezes BatchNorm, stem and res2 by default)"
            : ""));
    }

    /// <summary>One iteration: forward with the tape recording, the non-finite check, backward, clipping, SGD step.</summary>
    private static IReadOnlyList<(string Name, double Value)> Step(MaskRcnn model, SgdOptimizer optimizer, MaskRcnnLosses losses,
        TrainingLoader loader, TrainingRun run, int iteration, float lr)
    {
        using var batch = loader.Next();
        using var scope = TensorScope.Begin();
        using var tape = Tape.Record(optimizer.Parameters);
        var images = batch.Samples.Select(s => new TrainingImage(s.Height, s.Width, s.Truth)).ToList();
        var input = batch.Images.Device == run.Device ? batch.Images : batch.Images.To(run.Device);
        // The sampling is seeded by (run seed, iteration), so a resumed run draws what the uninterrupted one drew.
        var values = losses.Compute(input, images, new SeededSampling(run.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(iteration + 1))));
        var terms = losses.Names.Zip(values, (name, v) => (Name: name, Value: (double)v.ToArray<float>()[0])).ToList();
        if (terms.FirstOrDefault(t => !double.IsFinite(t.Value)) is { Name: not null } bad)
            throw new TrainingDivergedException($"iteration {iteration + 1}: {bad.Name} is {bad.Value}; training stopped, " +
                (File.Exists(run.CheckpointPath) ? $"the last good checkpoint {run.CheckpointPath} is intact" : "no checkpoint had been written yet"));
        var total = values[0];
        for (int k = 1; k < values.Count; k++) total = Functional.Add(total, values[k]);
        tape.Backward(total);
        if (run.ClipGradientNorm is { } maxNorm) optimizer.ClipGradientNorm(maxNorm);
        optimizer.Step(lr);
        optimizer.ZeroGrad();
        return terms;
    }
}
