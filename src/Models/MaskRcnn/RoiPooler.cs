using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>Multi-level RoIAlign over p2..p5 with the flavour's level rule and sampling.</summary>
public sealed class RoiPooler(MaskRcnnConfig config, int outputSize)
{
    private static readonly float[] Scales = [1f / 4, 1f / 8, 1f / 16, 1f / 32];

    /// <param name="features">p2..p5 on the model's device.</param>
    /// <param name="boxes">Per image its host boxes; the RoIs keep this order, image after image.</param>
    public Tensor Pool(IReadOnlyList<Tensor> features, IReadOnlyList<BoxList> boxes)
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
        using var device = host.To(features[0].Device);
        using var levels = RoiAlignOp.AssignLevels(device, config.LevelRule);
        return RoiAlignOp.Forward(features.Take(Scales.Length).ToList(), Scales, device, levels, config.Pooling(outputSize));
    }
}
