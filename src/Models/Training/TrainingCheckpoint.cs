using System.Globalization;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Optim;
using NativeSeg.Models.Conversion;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Models.Training;

/// <summary>
/// A training checkpoint, one .safetensors file written atomically: the model's raw parameters under their
/// checkpoint keys, the optimiser's momentum under "momentum.KEY", and in the metadata the model's own metadata
/// (architecture, config) plus the number of iterations done. A crash while writing leaves the previous one intact.
/// </summary>
public static class TrainingCheckpoint
{
    public const string IterationKey = "train.iterations_done";

    /// <summary>
    /// Writes the model alone: a file `segment` and `eval --model` load like any converted model, its source_format
    /// "nativeseg train" whatever the starting file's was.
    /// </summary>
    /// <param name="fp16">Store the weights as float16 (half the size, as a shipped model; loading widens them again).</param>
    public static void WriteModel(string path, Module model, IReadOnlyDictionary<string, string> modelMetadata, bool fp16 = false)
    {
        using var scope = TensorScope.Begin();
        var state = model.State().OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => fp16 ? new KeyValuePair<string, Tensor>(kv.Key, WeightsConverter.ToHalf(kv.Value.To(Device.Cpu))) : kv);
        var metadata = new Dictionary<string, string>(modelMetadata, StringComparer.Ordinal) { [SourceFormatKey] = "nativeseg train" };
        SafetensorsWriter.Write(path, state.ToList(), metadata);
    }

    private const string SourceFormatKey = "source_format";

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
