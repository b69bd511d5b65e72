using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Models.Detection;

/// <summary>
/// detectron2's ROIPooler as the one-stage detectors use it for their masks (BCNet, specs/bcnet.md §3.2): ROIAlignV2
/// 14×14 with adaptive sampling over every map of the pyramid, each box's level
/// clamp(floor(4 + log2(√area/224 + 1e-8)), first, last), boxes unclipped. Level l has stride 2^l.
/// </summary>
public static class PyramidRoiPooler
{
    public const int OutputSize = 14;

    /// <summary>The FCOS-based families' pyramids start at P3.</summary>
    public const int DefaultFirstLevel = 3;

    private static readonly RoiAlignOptions Options = new(OutputSize, OutputSize, SamplingRatio: 0, Aligned: true);

    /// <param name="pyramid">P<paramref name="firstLevel"/> onward on the model's device.</param>
    /// <param name="boxes">Per image its host boxes; the RoIs keep this order, image after image.</param>
    public static Tensor Pool(IReadOnlyList<Tensor> pyramid, IReadOnlyList<BoxList> boxes, int firstLevel = DefaultFirstLevel)
    {
        using var device = BoxList.ToRois(boxes, pyramid[0].Device);
        return Pool(pyramid, device, firstLevel);
    }

    /// <param name="pyramid">P<paramref name="firstLevel"/> onward on the model's device.</param>
    /// <param name="rois">[R, 5] (image index, x1, y1, x2, y2) already on the pyramid's device (<see cref="DeviceRois.Of"/>).</param>
    public static Tensor Pool(IReadOnlyList<Tensor> pyramid, Tensor rois, int firstLevel = DefaultFirstLevel)
    {
        using var levels = RoiAlignOp.AssignLevels(rois, LevelRule.Detectron2, firstLevel, firstLevel + pyramid.Count - 1);
        var scales = Enumerable.Range(firstLevel, pyramid.Count).Select(l => 1f / (1 << l)).ToList();
        return RoiAlignOp.Forward(pyramid, scales, rois, levels, Options);
    }
}
