using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.Indexing;

namespace NativeSeg.Models.Detection.MaskHeads;

/// <summary>Turns a mask predictor's logits into each RoI's mask probabilities, class-specific or class-agnostic.</summary>
public static class MaskProbabilities
{
    /// <summary>
    /// sigmoid of each RoI's own class channel of <paramref name="logits"/> [R, classes, S, S] as [R, S, S];
    /// a single-channel (class-agnostic) predictor serves every label.
    /// </summary>
    /// <param name="labels">Logit indices, one per RoI.</param>
    public static Tensor Select(Tensor logits, IReadOnlyList<int> labels)
    {
        int r = logits.Shape[0], channels = logits.Shape[1], side = logits.Shape[2];
        if (channels == 1)
        {
            using var probs = Activation.Sigmoid(logits);
            return probs.Reshape(r, side, side);
        }
        // Each RoI's channel is one row of the [R·classes, S·S] view.
        var rows = new long[r];
        for (int i = 0; i < r; i++) rows[i] = (long)i * channels + labels[i];
        using var index = Tensor.FromArray(rows, r);
        using var planes = logits.Reshape(r * channels, side * side);
        using var picked = Gather.Rows(planes, index);
        using var selected = Activation.Sigmoid(picked);
        return selected.Reshape(r, side, side);
    }

    /// <summary>
    /// As <see cref="Select"/> for detections kept on the device: <paramref name="logits"/> holds every image's
    /// padded slots, image after image, and each slot's channel is its <see cref="DeviceDetections.MaskRows"/> row,
    /// so no label is read back. Each image's probabilities are [capacity, S, S].
    /// </summary>
    public static IReadOnlyList<Tensor> PerImage(Tensor logits, IReadOnlyList<DeviceDetections> detections)
    {
        int channels = logits.Shape[1], side = logits.Shape[2], start = 0;
        var probabilities = new List<Tensor>(detections.Count);
        foreach (var d in detections)
        {
            int slots = d.Boxes.Capacity;
            using var planes = logits.Slice(start, slots).Reshape(slots * channels, side * side);
            // A class-agnostic predictor has one channel: slot i's row is i itself.
            using var picked = channels == 1 ? planes.Share() : Gather.Rows(planes, d.MaskRows);
            using var selected = Activation.Sigmoid(picked);
            probabilities.Add(selected.Reshape(slots, side, side));
            start += slots;
        }
        return probabilities;
    }
}
