using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Models.Detection;

/// <summary>Host-side boxes (x1, y1, x2, y2) with one score each, in ranking order.</summary>
public sealed record BoxList(float[] Boxes, float[] Scores)
{
    public int Count => Scores.Length;

    public ReadOnlySpan<float> Box(int i) => Boxes.AsSpan(i * 4, 4);

    /// <summary>
    /// RoIAlign's input for a batch: one (image index, x1, y1, x2, y2) row per box, image after image, on
    /// <paramref name="device"/>.
    /// </summary>
    public static Tensor ToRois(IReadOnlyList<BoxList> boxes, Device device)
    {
        int total = boxes.Sum(b => b.Count);
        var rois = new float[total * 5];
        int r = 0;
        for (int n = 0; n < boxes.Count; n++)
            for (int i = 0; i < boxes[n].Count; i++, r++)
            {
                rois[r * 5] = n;
                boxes[n].Box(i).CopyTo(rois.AsSpan(r * 5 + 1, 4));
            }
        using var host = Tensor.FromArray(rois, total, 5);
        return host.To(device);
    }
}
