using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// detectron2's LastLevelP6P7 as BCNet configures it: P6 is a 3×3 stride-2 conv of P5 (in_feature "p5", not
/// C5) and P7 the same on relu(P6); weights under <c>backbone.top_block.p6/p7</c>.
/// </summary>
public sealed class FcosTopBlock : Module
{
    private readonly Conv2dLayer _p6, _p7;

    public FcosTopBlock(ParameterStore store, int channels, string prefix = "backbone.top_block.")
    {
        var spec = new ConvSpec(channels, channels, 3, Stride: 2, Padding: 1, Bias: true);
        _p6 = Child(new Conv2dLayer(store, prefix + "p6", spec));
        _p7 = Child(new Conv2dLayer(store, prefix + "p7", spec));
    }

    /// <summary>(P6, P7) from P5, which stays the caller's.</summary>
    public (Tensor P6, Tensor P7) Forward(Tensor p5)
    {
        using var scope = TensorScope.Begin();
        var p6 = _p6.Forward(p5);
        // P6 itself stays un-activated: it is a pyramid level; only P7's input goes through the ReLU.
        return scope.Keep((p6, _p7.Forward(Activation.Relu(p6))));
    }
}
