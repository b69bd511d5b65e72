using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>The RPN head shared by all levels: 3×3 conv + ReLU, then 1×1 objectness (A) and 1×1 deltas (4A).</summary>
public sealed class RpnHead : Module
{
    private readonly Conv2dLayer _conv, _logits, _deltas;

    public RpnHead(ParameterStore store, HeadNames names, int channels = 256, int anchors = AnchorGenerator.PerCell)
    {
        _conv = Child(new Conv2dLayer(store, names.RpnConv, ConvSpec.Same(channels, channels, 3, relu: true, bias: true)));
        _logits = Child(new Conv2dLayer(store, names.RpnLogits, new ConvSpec(channels, anchors, 1, Bias: true)));
        _deltas = Child(new Conv2dLayer(store, names.RpnDeltas, new ConvSpec(channels, anchors * 4, 1, Bias: true)));
    }

    /// <summary>Objectness logits [N, A, H, W] and anchor deltas [N, 4A, H, W] of one feature map.</summary>
    public (Tensor Logits, Tensor Deltas) Forward(Tensor feature)
    {
        using var scope = TensorScope.Begin();
        var hidden = _conv.Forward(feature);
        return scope.Keep((_logits.Forward(hidden), _deltas.Forward(hidden)));
    }
}
