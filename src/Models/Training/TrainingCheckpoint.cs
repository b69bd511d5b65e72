using System.Globalization;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Optim;

namespace NativeSeg.Models.Training;

/// <summary>
/// A training checkpoint, one .safetensors file written atomically: the model's raw parameters under their
/// checkpoint keys, the optimiser's momentum under "momentum.KEY", and in the metadata the model's own metadata
/// (architecture, config) plus the number of iterations done. A crash while writing leaves the previous one intact.
/// </summary>
public static class TrainingCheckpoint
{
    public const string IterationKey = "train.iterations_done";

    /// <summary>Writes the model alone: a file `segment` and `eval --model` load like any converted model.</summary>
    public static void WriteModel(string path, Module model, IReadOnlyDictionary<string, string> modelMetadata) =>
        SafetensorsWriter.Write(path, model.State().OrderBy(kv => kv.Key, StringComparer.Ordinal), modelMetadata);

    public static void Write(string path, Module model, SgdOptimizer optimizer, IReadOnlyDictionary<string, string> modelMetadata, int iterationsDone)
    {
        var metadata = new Dictionary<string, string>(modelMetadata, StringComparer.Ordinal)
        {
            [IterationKey] = iterationsDone.ToString(CultureInfo.InvariantCulture),
        };
        var tensors = model.State().Concat(optimizer.State()).OrderBy(kv => kv.Key, StringComparer.Ordinal);
        SafetensorsWriter.Write(path, tensors, metadata);
    }

    /// <summary>Loads a checkpoint's parameters and momentum into <paramref name="model"/> and <paramref name="optimizer"/>; returns the iterations it had done.</summary>
    public static int Restore(string path, Module model, SgdOptimizer optimizer)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(IterationKey, out var text) || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int done))
            throw new FormatException($"{path} is not a NativeSeg training checkpoint (no '{IterationKey}' in its metadata)");
        using var scope = TensorScope.Begin();
        var tensors = file.Names.ToDictionary(n => n, file.Load, StringComparer.Ordinal);
        model.LoadState(tensors);
        optimizer.LoadState(tensors);
        return done;
    }
}
