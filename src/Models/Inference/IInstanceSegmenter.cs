using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Layers;

namespace NativeSeg.Models.Inference;

/// <summary>One detected instance as COCO results carry it: a category id, a confidence, a full-image mask and its box.</summary>
public sealed record InstancePrediction(long CategoryId, double Score, Rle Mask, CocoBox? Box = null);

/// <summary>A loaded model that segments instances in images; what `nativeseg segment` and `eval --model` run.</summary>
public interface IInstanceSegmenter : IDisposable
{
    /// <summary>The architecture name the model file declares.</summary>
    string Architecture { get; }

    /// <summary>Names of the model's categories by dataset id; null for COCO's.</summary>
    IReadOnlyDictionary<long, string>? CategoryNames { get; }

    /// <summary>The instances of each image, in the images' own coordinates.</summary>
    IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images) => Segment(images, null);

    /// <param name="clock">Times each stage when benchmarking; null in ordinary use.</param>
    IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images, StageClock? clock);
}

/// <summary>
/// How to run a model: its device, when set a box score threshold replacing the model's own, and the precision of its
/// convolutions and fully connected layers (fp16 on a CUDA device only).
/// </summary>
public sealed record SegmenterOptions(Device Device, float? ScoreThreshold = null, InferencePrecision Precision = InferencePrecision.Fp32);

/// <summary>Opens a model file with the loader of the architecture its metadata declares.</summary>
public static class InstanceSegmenters
{
    /// <summary>Every architecture a converted file may declare and be run.</summary>
    public static IEnumerable<string> Architectures => Registry.Architectures.Runnable;

    /// <summary>The architecture a model file declares, read from its header alone; throws with the reason when no runner takes it.</summary>
    public static string Inspect(string modelPath) => Find(modelPath).Architecture;

    /// <param name="options">Default: the best available device and the model's own thresholds.</param>
    public static IInstanceSegmenter Open(string modelPath, SegmenterOptions? options = null)
    {
        var (_, load) = Find(modelPath);
        return load(modelPath, options ?? new SegmenterOptions(DeviceSelector.Select("auto", Console.Error)));
    }

    /// <summary>The COCO-results view of one image's instances.</summary>
    public static IReadOnlyList<InstancePrediction> Predict(this IInstanceSegmenter segmenter, Image image) =>
        segmenter.Segment([image])[0].Select(i => new InstancePrediction(i.CategoryId, i.MaskScore, i.Mask, new CocoBox(i.X1, i.Y1, i.X2 - i.X1, i.Y2 - i.Y1))).ToList();

    private static (string Architecture, Registry.ModelLoader Load) Find(string modelPath)
    {
        if (Directory.Exists(modelPath))
            throw new NotSupportedException($"model {modelPath} is a folder; runners read one .safetensors file made by `nativeseg convert`");
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"model {modelPath} does not exist", modelPath);
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            using var file = Engine.Formats.Safetensors.SafetensorsFile.Open(modelPath);
            metadata = file.Metadata;
        }
        catch (Engine.Formats.FileFormatException e)
        {
            throw new NotSupportedException($"model {modelPath} is not a .safetensors file made by `nativeseg convert`: {e.Message}", e);
        }
        if (!metadata.TryGetValue("architecture", out var name))
            throw new NotSupportedException($"model {modelPath} has no 'architecture' in its metadata; convert checkpoints with `nativeseg convert`");
        var load = Registry.Architectures.Loader(name)
            ?? throw new NotSupportedException($"model {modelPath} holds a '{name}' model, which no runner takes yet (runnable: {string.Join(", ", Architectures)})");
        return (name, load);
    }
}
