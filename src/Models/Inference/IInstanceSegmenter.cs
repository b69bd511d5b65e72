using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Models.Inference;

/// <summary>One detected instance: a COCO category id, a confidence and a full-image mask.</summary>
public sealed record InstancePrediction(long CategoryId, double Score, Rle Mask, CocoBox? Box = null);

/// <summary>A loaded model that segments instances in one image; what `nativeseg eval --model` runs.</summary>
public interface IInstanceSegmenter : IDisposable
{
    IReadOnlyList<InstancePrediction> Predict(Image image);
}

/// <summary>Opens a model file with the first loader that recognises it.</summary>
public static class InstanceSegmenters
{
    /// <summary>
    /// Model families add a loader here: it returns null for files that are not theirs.
    /// </summary>
    private static readonly List<Func<string, IInstanceSegmenter?>> Loaders = [MaskRcnn.MaskRcnn.TryOpen, Bcnet.Bcnet.TryOpen];

    public static IInstanceSegmenter Open(string modelPath)
    {
        if (!File.Exists(modelPath) && !Directory.Exists(modelPath))
            throw new FileNotFoundException($"model {modelPath} does not exist", modelPath);
        foreach (var load in Loaders)
            if (load(modelPath) is { } model) return model;
        throw new NotSupportedException(
            $"no model loader recognises {modelPath}: runners read .safetensors files made by `nativeseg convert` (Mask R-CNN: {string.Join(", ", MaskRcnn.MaskRcnnArchitectures.Names)})");
    }
}
