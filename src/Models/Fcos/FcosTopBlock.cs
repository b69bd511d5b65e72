using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// The FPN's extra levels above P5 as BCNet and AdelaiDet configure them: P6 is a 3×3 stride-2 conv of P5
/// (in_feature "p5", not C5) and P7 the same on relu(P6) (detectron2's LastLevelP6P7), or P6 alone in the 550
/// configs (AdelaiDet's LastLevelP6); weights under <c>backbone.top_block.p6/p7</c>.
/// </summary>
public sealed class FcosTopBlock : Module
{
    private readonly Conv2dLayer[] _levels;

    /// <param name="levels">1 (P6) or 2 (P6, P7).</param>
    public FcosTopBlock(ParameterStore store, int channels, int levels = 2, string prefix = "backbone.top_block.")
    {
        if (levels is not (1 or 2)) throw new ArgumentException($"FCOS top block: {levels} extra levels; upstream has 1 (P6) or 2 (P6, P7)");
        var spec = new ConvSpec(channels, channels, 3, Stride: 2, Padding: 1, Bias: true);
        _levels = [.. Enumerable.Range(6, levels).Select(l => Child(new Conv2dLayer(store, $"{prefix}p{l}", spec)))];
    }

    /// <summary>P6 (and P7) from P5, which stays the caller's.</summary>
    public Tensor[] Forward(Tensor p5)
    {
        using var scope = TensorScope.Begin();
        var p6 = _levels[0].Forward(p5);
        // P6 itself stays un-activated: it is a pyramid level; only P7's input goes through the ReLU.
        Tensor[] levels = _levels.Length == 1 ? [p6] : [p6, _levels[1].Forward(Activation.Relu(p6))];
        return [.. levels.Select(scope.Keep)];
    }
}
