using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;

namespace NativeSeg.Models.Detection;

/// <summary>RoIAlign's input built from boxes that stay on the device.</summary>
public static class DeviceRois
{
    /// <summary>
    /// One (image index, x1, y1, x2, y2) row per slot of every image's boxes, image after image: padded slots
    /// included, so the batch's RoI count follows from capacities the host knows, not from device counts.
    /// </summary>
    public static Tensor Of(IReadOnlyList<DeviceBoxes> boxes)
    {
        var index = boxes.SelectMany((b, n) => Enumerable.Repeat((float)n, b.Capacity)).ToArray();
        using var hostIndex = Tensor.FromArray(index, index.Length, 1);
        using var deviceIndex = hostIndex.To(boxes[0].Boxes.Device);
        using var all = Concat.Forward(boxes.Select(b => b.Boxes).ToList(), 0);
        return Concat.Forward([deviceIndex, all], 1);
    }
}
