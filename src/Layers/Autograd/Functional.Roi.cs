using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;

namespace NativeSeg.Layers.Autograd;

public static partial class Functional
{
    /// <summary>
    /// RoIAlign over several pyramid levels; the gradient flows to every level map (the RoIs and their level
    /// assignment are constants: detectors do not back-propagate into the boxes they pool).
    /// </summary>
    public static Tensor RoiAlign(IReadOnlyList<Tensor> features, IReadOnlyList<float> spatialScales, Tensor rois, Tensor levels, RoiAlignOptions options)
    {
        var y = NativeSeg.Kernels.RoiAlign.RoiAlign.Forward(features, spatialScales, rois, levels, options);
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("roi_align", [.. features], [y]);
        var shapes = features.Select(f => f.Shape).ToList();
        var savedRois = node.Save(rois);
        var savedLevels = node.Save(levels);
        var scales = spatialScales.ToArray();
        tape.Add(node.WithBackward((g, need) =>
        {
            var grads = NativeSeg.Kernels.RoiAlign.RoiAlign.Backward(g[0]!, shapes, scales, savedRois, savedLevels, options);
            return [.. grads.Select((d, i) => need[i] ? d : null)];
        }));
        return y;
    }
}
