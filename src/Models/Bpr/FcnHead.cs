using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Bpr;

/// <summary>
/// mmseg's FCNHead as BPR configures it (<c>decode_head</c>): every branch resized bilinearly (align_corners false)
/// to the first branch's size and concatenated (resize_concat), one 1×1 ConvModule (<c>convs.0</c>: conv + BN + ReLU,
/// no dropout, no concat of the input), then <c>conv_seg</c> 1×1 to two classes (background, foreground).
/// </summary>
public sealed class FcnHead : Module
{
    private const double NormEps = 1e-5;
    private const int Classes = 2;

    private readonly Conv2dLayer _conv;
    private readonly Conv2dLayer _classifier;

    /// <param name="trainableNorm">A trainable <c>convs.0.bn</c> (<see cref="BatchNorm2d"/>) rather than a frozen one.</param>
    public FcnHead(ParameterStore store, string prefix, int channels, bool trainableNorm = false)
    {
        _conv = Child(new Conv2dLayer(store, prefix + "convs.0.conv.weight", null, new ConvSpec(channels, channels, 1, Relu: true),
            new BatchNormSpec(prefix + "convs.0.bn", NormEps, trainableNorm)));
        _classifier = Child(new Conv2dLayer(store, prefix + "conv_seg", new ConvSpec(channels, Classes, 1, Bias: true)));
    }

    /// <summary>Two-class logits at the first branch's resolution.</summary>
    public Tensor Forward(IReadOnlyList<Tensor> branches)
    {
        using var scope = TensorScope.Begin();
        var first = branches[0];
        var inputs = branches.Select((b, i) => i == 0 ? b : Functional.ResizeBilinear(b, first.Shape[2], first.Shape[3], alignCorners: false)).ToArray();
        var x = Functional.Concat(inputs, 1);
        return scope.Keep(_classifier.Forward(_conv.Forward(x)));
    }
}
