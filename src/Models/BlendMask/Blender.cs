using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Blend;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Kernels.RoiAlign;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Models.BlendMask;

/// <summary>
/// BlendMask's blender at test time (adet/modeling/blendmask/blender.py, specs/blendmask.md §4): each detection's
/// box pooled from the bases (ROIAlignV2: aligned, one sample per bin, scale 1/4), its attention logits
/// [K, M, M] resized bilinearly (align_corners False) to the pooled resolution, softmax over the K bases,
/// the weighted sum and a sigmoid: a class-agnostic mask probability map per detection.
/// </summary>
public sealed class Blender(int bases = 4, int attentionSize = 14, int resolution = 56, float basesScale = 0.25f, int samplingRatio = 1)
{
    public int Resolution => resolution;

    /// <summary>The attention vector length per detection, K·M·M (784 for the released models).</summary>
    public int AttentionLength => bases * attentionSize * attentionSize;

    /// <param name="bases">[1, K, H, W] of the image the RoIs belong to.</param>
    /// <param name="rois">[D, 5] (batch index, x1, y1, x2, y2) in input-image coordinates, unclipped as upstream pools them.</param>
    /// <param name="attentions">[D, K·M·M], channel k·M² + y·M + x.</param>
    /// <returns>Mask probabilities [D, R, R].</returns>
    public Tensor Forward(Tensor bases, Tensor rois, Tensor attentions)
    {
        using var scope = TensorScope.Begin();
        int d = rois.Shape[0];
        using var hostLevels = Tensor.FromArray(new int[d], d);
        var levels = hostLevels.To(rois.Device);
        var pooled = RoiAlignOp.Forward([bases], [basesScale], rois, levels, new RoiAlignOptions(resolution, resolution, samplingRatio, Aligned: true));
        var coefficients = Resize.Bilinear(attentions.Reshape(d, bases.Shape[1], attentionSize, attentionSize), resolution, resolution, alignCorners: false);
        return scope.Keep(SoftmaxBlend.Forward(coefficients, pooled));
    }
}
