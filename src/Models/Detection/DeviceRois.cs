using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;

namespace NativeSeg.Models.Detection;

/// <summary>
/// RoIAlign's input built from boxes that stay on the device. The image index column follows from the images'
/// capacities alone, so it is uploaded once per capacity list and kept on the device.
/// </summary>
public sealed class DeviceRois : IDisposable
{
    // A pipeline asks for two lists (proposals, detections) per batch size.
    private const int CachedShapes = 8;

    private readonly DeviceShapeCache<Tensor> _imageIndices = new(CachedShapes);

    /// <summary>Capacity lists whose image index column is on the device now.</summary>
    public int CachedShapeCount => _imageIndices.Count;

    /// <summary>
    /// One (image index, x1, y1, x2, y2) row per slot of every image's boxes, image after image: padded slots
    /// included, so the batch's RoI count follows from capacities the host knows, not from device counts.
    /// </summary>
    public Tensor Of(IReadOnlyList<DeviceBoxes> boxes)
    {
        var device = boxes[0].Boxes.Device;
        var imageIndex = _imageIndices.Get(string.Join(",", boxes.Select(b => b.Capacity)), () =>
        {
            var index = boxes.SelectMany((b, n) => Enumerable.Repeat((float)n, b.Capacity)).ToArray();
            return DeviceConstant.Upload(Tensor.FromArray(index, index.Length, 1), device);
        });
        using var all = Concat.Forward(boxes.Select(b => b.Boxes).ToList(), 0);
        return Concat.Forward([imageIndex, all], 1);
    }

    public void Dispose() => _imageIndices.Dispose();
}
