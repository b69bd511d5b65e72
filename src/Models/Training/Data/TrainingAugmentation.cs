using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Randomness;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.MaskRcnn.Training;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Training.Data;

/// <summary>
/// Training-time resize and flip: per image one shortest-edge size out of <see cref="MinSizes"/> (detectron2's
/// ResizeShortestEdge "choice", torchvision's torch_choice over min_size), the long side capped at
/// <see cref="MaxSize"/>, and with <see cref="Flip"/> a horizontal flip with probability 0.5.
/// </summary>
public sealed record TrainingAugmentation
{
    public TrainingAugmentation(int[] minSizes, int maxSize, bool flip)
    {
        if (minSizes.Length == 0) throw new ArgumentException("training augmentation needs at least one minimum size", nameof(minSizes));
        if (minSizes.Any(s => s <= 0)) throw new ArgumentException($"minimum sizes [{string.Join(", ", minSizes)}] must be positive", nameof(minSizes));
        if (maxSize <= 0) throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "the maximum size must be positive");
        (MinSizes, MaxSize, Flip) = (minSizes, maxSize, flip);
    }

    public int[] MinSizes { get; }

    public int MaxSize { get; }

    public bool Flip { get; }

    /// <summary>The size and flip of one sample, drawn from its own generator so they depend only on its seed.</summary>
    public (int MinSize, bool Flip) Choose(SplitMix64 rng)
    {
        int minSize = MinSizes[rng.Next(MinSizes.Length)];
        return (minSize, Flip && rng.Next(2) == 1);
    }

    /// <summary>
    /// Resizes (and flips) <paramref name="image"/> into the network's normalised, padded input and moves its
    /// annotations into the same frame. <paramref name="preprocess"/> gives the flavour and normalisation, its
    /// sizes are replaced by <paramref name="minSize"/> and <see cref="MaxSize"/>; <paramref name="model"/> the class
    /// mapping and the flavour's ground-truth rules.
    /// </summary>
    public AugmentedSample Apply(Image image, IEnumerable<CocoAnnotation> annotations, int minSize, bool flip, PreprocessConfig preprocess, MaskRcnnConfig model)
    {
        var config = preprocess with { MinSize = minSize, MaxSize = MaxSize };
        var input = AugmentedImage.Build(image, config, flip);
        try
        {
            var truth = GroundTruthTransform.Apply(annotations, image.Height, image.Width, input.Height, input.Width, flip, model);
            return new AugmentedSample(input, truth);
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }
}

/// <summary>One augmented training image: the padded input [1, 3, PH, PW] (owned) and its ground truth in the resized frame.</summary>
public sealed class AugmentedSample(PreprocessedImage input, GroundTruth truth) : IDisposable
{
    public PreprocessedImage Input { get; } = input;

    public GroundTruth Truth { get; } = truth;

    public void Dispose() => Input.Dispose();
}
