using System.Diagnostics;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Optim;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Inference;
using NativeSeg.Models.Training;
using NativeSeg.Models.Training.Data;

namespace NativeSeg.Models.Bpr.Training;

/// <summary>
/// Trains a BPR refinement network on boundary patches of coarse masks (<see cref="BprPatchSet"/>) as upstream's
/// configs do: every layer trained with BatchNorm in training mode, SGD with momentum and weight decay, poly decay
/// to a floor, random horizontal flips; each iteration takes the next <see cref="BprTrainingRun.BatchSize"/> patches
/// of a seeded shuffle per epoch. Checkpoints hold the optimiser's momentum, and a resumed run draws the same
/// batches and flips as the uninterrupted one.
/// </summary>
public static class BprTrainer
{
    public static void Run(BprTrainingRun run, TextWriter log, Action<IterationReport> progress, CancellationToken cancel)
    {
        if (run.Problem() is { } problem) throw new ArgumentException(problem);
        var config = BprModel.Inspect(run.ModelPath);
        var set = CocoTrainingSet.Open(run.AnnotationsPath, run.ImagesDirectory);
        List<CocoAnnotation> coarse;
        try
        {
            coarse = CocoJson.ReadResults(run.CoarsePath);
        }
        catch (CocoFormatException e)
        {
            throw new TrainingDataException($"coarse results {e.Message}", e);
        }
        var clock = Stopwatch.StartNew();
        var patches = BprPatchSet.Build(set, coarse, run.CoarsePath, config, run.MaxInstances, run.Seed);
        if (patches.Patches.Count == 0)
            throw new TrainingDataException($"{run.CoarsePath}: no coarse mask matches a ground-truth instance with IoU > {BprPatchSet.MinIou} and has a boundary patch, so there is nothing to train on");
        log.WriteLine($"{patches.Patches.Count} patches from {patches.Instances} of the {patches.Candidates} coarse masks that match an instance " +
            $"({coarse.Count} results on {set.Images.Count} images) in {clock.Elapsed.TotalSeconds:F1} s");
        Directory.CreateDirectory(run.OutputDirectory);

        var metadata = ModelMetadata(run.ModelPath);
        using var network = Load(run, config);
        foreach (var norm in network.Modules().OfType<BatchNorm2d>()) norm.Training = true;
        using var optimizer = new SgdOptimizer(network.TrainableParameters(), run.Momentum, run.WeightDecay);
        int done = TrainingLoop.Resume(run, network, optimizer, log);
        var schedule = new PolyLearningRate(run.LearningRate, run.Iterations, MinLr: run.MinLearningRate);
        var order = new PatchOrder(patches.Patches.Count, run.Seed);
        log.WriteLine($"training {config.Architecture} on {run.Device}: {network.TrainableParameters().Sum(p => p.Value.Numel):N0} trainable parameters, " +
            $"iterations {done + 1}..{run.Iterations} of {run.BatchSize} patches");
        if (!TrainingLoop.Run(run, network, optimizer, metadata, done, schedule.At,
                (i, lr) => [("loss_seg", Step(network, optimizer, Batch(patches.Patches, order, run, i), run, i, lr))], log, progress, cancel))
            return;
        TrainingCheckpoint.WriteModel(run.FinalModelPath, network, metadata, run.Fp16Model);
        log.WriteLine($"wrote {run.FinalModelPath}");
    }

    private static IReadOnlyDictionary<string, string> ModelMetadata(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Metadata.Where(kv => kv.Key != TrainingCheckpoint.IterationKey).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>The network with trainable BatchNorms, every parameter of the file taken (a leftover key is an error).</summary>
    private static BprNetwork Load(BprTrainingRun run, BprConfig config)
    {
        using var file = SafetensorsFile.Open(run.ModelPath);
        using var weights = Float32Weights.Load(file);
        using var store = weights.IntoStore(run.Device);
        var network = Layers.Modules.Module.Build(() => new BprNetwork(store, config, trainableNorm: true));
        if (store.Unused(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) is { Count: > 0 } unused)
        {
            network.Dispose();
            throw new FormatException($"{run.ModelPath}: {unused.Count} tensors belong to no layer of {config.Architecture}, e.g. {unused[0]}");
        }
        return network;
    }

    /// <summary>Iteration <paramref name="iteration"/>'s patches, each flipped by a coin seeded by (seed, iteration, slot).</summary>
    private static List<BprPatch> Batch(IReadOnlyList<BprPatch> patches, PatchOrder order, BprTrainingRun run, int iteration)
    {
        var random = new Random(unchecked((int)(run.Seed * 0x9E3779B97F4A7C15UL >> 32) ^ (iteration * 7919)));
        var batch = new List<BprPatch>(run.BatchSize);
        for (int k = 0; k < run.BatchSize; k++)
        {
            var patch = patches[order.At((long)iteration * run.BatchSize + k)];
            batch.Add(run.Flip && random.NextDouble() < 0.5 ? patch.Flipped() : patch);
        }
        return batch;
    }

    private static double Step(BprNetwork network, SgdOptimizer optimizer, List<BprPatch> patches, BprTrainingRun run, int iteration, float lr)
    {
        using var batch = BprBatch.Build(patches, network.Config, run.Device);
        using var scope = TensorScope.Begin();
        using var tape = Tape.Record(optimizer.Parameters);
        var loss = BprLoss.Compute(network.Logits(batch.Input), batch.Target);
        double value = loss.To(Engine.Devices.Device.Cpu).ToArray<float>()[0];
        if (!double.IsFinite(value))
            throw new TrainingDivergedException($"iteration {iteration + 1}: loss_seg is {value}; training stopped, " +
                (File.Exists(run.CheckpointPath) ? $"the last good checkpoint {run.CheckpointPath} is intact" : "no checkpoint had been written yet"));
        tape.Backward(loss);
        optimizer.Step(lr);
        optimizer.ZeroGrad();
        return value;
    }

    /// <summary>Position p of the patch stream: epoch p / count is a permutation drawn from (seed, epoch).</summary>
    private sealed class PatchOrder(int count, ulong seed)
    {
        private long _epoch = -1;
        private int[] _permutation = [];

        public int At(long position)
        {
            long epoch = position / count;
            if (epoch != _epoch)
            {
                _permutation = Enumerable.Range(0, count).ToArray();
                new Random(unchecked((int)(seed ^ (seed >> 32)) * 31 + (int)epoch)).Shuffle(_permutation);
                _epoch = epoch;
            }
            return _permutation[position % count];
        }
    }
}
