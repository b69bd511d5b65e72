using NativeSeg.Engine.Tensors;

namespace NativeSeg.Models.Detection;

/// <summary>
/// One image's boxes kept on the device: [capacity, 4] (x1, y1, x2, y2) in ranking order, the first
/// <see cref="Count"/> (int64 [1], also on the device) real and the rest zero rows, so no host code waits to
/// learn how many there are.
/// </summary>
public sealed record DeviceBoxes(Tensor Boxes, Tensor Count)
{
    public int Capacity => Boxes.Shape[0];
}

/// <summary>
/// One image's final detections on the device, padded to <see cref="DeviceBoxes.Capacity"/> like their boxes:
/// scores [capacity, 1], labels (logit indices) as float32 [capacity, 1], and each slot's row of the mask
/// predictor's [capacity·classes, …] view (slot·classes + label), int64 [capacity].
/// </summary>
public sealed record DeviceDetections(DeviceBoxes Boxes, Tensor Scores, Tensor Labels, Tensor MaskRows)
{
    /// <summary>The scores of the masks [capacity, 1]: the box scores, or MS R-CNN's rescored ones.</summary>
    public Tensor MaskScores { get; init; } = Scores;
}
