using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.MaskRcnn;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// BCNet's mask pooler (specs/bcnet.md §3.2): ROIAlignV2 14×14 with adaptive sampling over the FCOS levels
/// P3–P7, each box's level clamp(floor(4 + log2(√area/224 + 1e-8)), 3, 7), boxes unclipped.
/// </summary>
public static class PyramidRoiPooler
{
    public const int OutputSize = 14;

    private static readonly RoiAlignOptions Options = new(OutputSize, OutputSize, SamplingRatio: 0, Aligned: true);

    /// <param name="pyramid">P3..P7 on the model's device.</param>
    /// <param name="boxes">Per image its host boxes; the RoIs keep this order, image after image.</param>
    public static Tensor Pool(IReadOnlyList<Tensor> pyramid, IReadOnlyList<BoxList> boxes)
    {
        using var device = BoxList.ToRois(boxes, pyramid[0].Device);
        int maxLevel = FcosConfig.MinLevel + FcosConfig.Strides.Count - 1;
        using var levels = RoiAlignOp.AssignLevels(device, LevelRule.Detectron2, FcosConfig.MinLevel, maxLevel);
        var scales = FcosConfig.Strides.Select(s => 1f / s).ToList();
        return RoiAlignOp.Forward(pyramid, scales, device, levels, Options);
    }
}
