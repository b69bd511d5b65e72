using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Layers.Autograd;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Models.Detection;

/// <summary>Multi-level RoIAlign over p2..p5 with the flavour's level rule and sampling.</summary>
public sealed class RoiPooler(DetectorConfig config, int outputSize)
{
    private static readonly float[] Scales = [1f / 4, 1f / 8, 1f / 16, 1f / 32];

    /// <param name="features">p2..p5 on the model's device.</param>
    /// <param name="boxes">Per image its host boxes; the RoIs keep this order, image after image.</param>
    public Tensor Pool(IReadOnlyList<Tensor> features, IReadOnlyList<BoxList> boxes)
    {
        using var device = BoxList.ToRois(boxes, features[0].Device);
        using var levels = RoiAlignOp.AssignLevels(device, config.Flavour.LevelRule);
        // Through the tape-aware op: in training the pooled features carry gradients back to the pyramid.
        return Functional.RoiAlign(features.Take(Scales.Length).ToList(), Scales, device, levels, config.Flavour.Pooling(outputSize));
    }

    /// <param name="rois">[R, 5] (image index, x1, y1, x2, y2) already on the features' device (<see cref="DeviceRois.Of"/>).</param>
    public Tensor Pool(IReadOnlyList<Tensor> features, Tensor rois)
    {
        using var levels = RoiAlignOp.AssignLevels(rois, config.Flavour.LevelRule);
        return RoiAlignOp.Forward(features.Take(Scales.Length).ToList(), Scales, rois, levels, config.Flavour.Pooling(outputSize));
    }
}
