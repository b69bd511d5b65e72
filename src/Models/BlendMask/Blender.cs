using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Blend;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Models.Inference;
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
        var (pooled, coefficients) = Inputs(bases, rois, attentions);
        return scope.Keep(SoftmaxBlend.Forward(coefficients, pooled));
    }

    /// <summary>
    /// What <see cref="Forward"/> blends, per detection: each basis pooled over the RoI, the softmax weight it gets at
    /// each pixel, their weighted sum (the mask logit) and the mask probability, as `segment --explain` shows them.
    /// </summary>
    /// <returns>The mask probabilities [D·R·R], as <see cref="Forward"/> gives them, and the maps of each detection.</returns>
    public (float[] Probabilities, IReadOnlyList<IReadOnlyList<ExplanationMap>> Maps) Explain(Tensor bases, Tensor rois, Tensor attentions)
    {
        using var scope = TensorScope.Begin();
        var (pooledDevice, coefficientsDevice) = Inputs(bases, rois, attentions);
        float[] probabilities = SoftmaxBlend.Forward(coefficientsDevice, pooledDevice).ToArray<float>();
        float[] pooled = pooledDevice.ToArray<float>(), coefficients = coefficientsDevice.ToArray<float>();
        int k = bases.Shape[1], plane = resolution * resolution;
        var result = new List<IReadOnlyList<ExplanationMap>>(rois.Shape[0]);
        for (int d = 0; d < rois.Shape[0]; d++)
        {
            var weights = Enumerable.Range(0, k).Select(_ => new float[plane]).ToArray();
            var logit = new float[plane];
            for (int p = 0; p < plane; p++)
            {
                float max = float.NegativeInfinity, sum = 0;
                for (int j = 0; j < k; j++) max = Math.Max(max, coefficients[(d * k + j) * plane + p]);
                for (int j = 0; j < k; j++) sum += weights[j][p] = MathF.Exp(coefficients[(d * k + j) * plane + p] - max);
                for (int j = 0; j < k; j++)
                {
                    weights[j][p] /= sum;
                    logit[p] += weights[j][p] * pooled[(d * k + j) * plane + p];
                }
            }
            var row1 = Enumerable.Range(0, k).Select(j => new ExplanationMap($"basis {j + 1}", pooled.AsSpan((d * k + j) * plane, plane).ToArray(), resolution, MapScale.Signed));
            var row2 = Enumerable.Range(0, k).Select(j => new ExplanationMap($"attention {j + 1}", weights[j], resolution, MapScale.Probability));
            result.Add([
                .. row1, new ExplanationMap("blended logit", logit, resolution, MapScale.Signed),
                .. row2, new ExplanationMap("mask", probabilities.AsSpan(d * plane, plane).ToArray(), resolution, MapScale.Probability),
            ]);
        }
        return (probabilities, result);
    }

    /// <summary>The pooled bases [D, K, R, R] and the attention logits resized to them.</summary>
    private (Tensor Pooled, Tensor Coefficients) Inputs(Tensor bases, Tensor rois, Tensor attentions)
    {
        using var scope = TensorScope.Begin();
        int d = rois.Shape[0];
        using var hostLevels = Tensor.FromArray(new int[d], d);
        var levels = hostLevels.To(rois.Device);
        var pooled = RoiAlignOp.Forward([bases], [basesScale], rois, levels, new RoiAlignOptions(resolution, resolution, samplingRatio, Aligned: true));
        var coefficients = Resize.Bilinear(attentions.Reshape(d, bases.Shape[1], attentionSize, attentionSize), resolution, resolution, alignCorners: false);
        return scope.Keep((pooled, coefficients));
    }
}
