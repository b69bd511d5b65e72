using NativeSeg.Engine.Tensors;

namespace NativeSeg.Models.Detection.MaskHeads;

/// <summary>A mask head of a two-stage detector: Mask R-CNN's conv-deconv head, or BCNet's bilayer head on the same pooled RoIs.</summary>
public interface IRoiMaskHead : IDisposable
{
    /// <summary>Mask probabilities [R, 28, 28] from pooled RoI features [R, C, 14, 14]; <paramref name="labels"/> are logit indices.</summary>
    Tensor Forward(Tensor pooled, IReadOnlyList<int> labels);
}
