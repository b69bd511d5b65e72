using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Detection.MaskHeads;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// Mask head: four 3×3 conv + ReLU on the 14×14 pooled features, a 2×2 stride-2 deconv + ReLU, a 1×1
/// class-specific predictor, and the sigmoid of each detection's own class channel (28×28).
/// </summary>
public sealed class MaskHead : Module, IRoiMaskHead
{
    private const int Convs = 4;

    private readonly Conv2dLayer[] _convs;
    private readonly ConvTranspose2dLayer _deconv;
    private readonly Conv2dLayer _predictor;

    public MaskHead(ParameterStore store, HeadNames names, MaskRcnnConfig config)
    {
        int channels = config.MaskChannels;
        _convs = [.. Enumerable.Range(0, Convs).Select(i => Child(new Conv2dLayer(store, names.MaskConv(i + 1),
            ConvSpec.Same(i == 0 ? config.FeatureChannels : channels, channels, 3, relu: true, bias: true))))];
        _deconv = Child(new ConvTranspose2dLayer(store, names.MaskDeconv, channels, channels, 2, 2, relu: true));
        _predictor = Child(new Conv2dLayer(store, names.MaskPredictor, new ConvSpec(channels, config.BoxClasses, 1, Bias: true)));
    }

    /// <summary>The class-specific predictor, which a finetune to another category set re-initialises.</summary>
    public Conv2dLayer Predictor => _predictor;

    /// <summary>Mask logits of every class [R, classes, 28, 28] from pooled RoI features [R, C, 14, 14].</summary>
    public Tensor Logits(Tensor pooled)
    {
        using var scope = TensorScope.Begin();
        var x = pooled;
        foreach (var conv in _convs) x = conv.Forward(x);
        return scope.Keep(_predictor.Forward(_deconv.Forward(x)));
    }

    /// <summary>Mask probabilities [R, 28, 28] of each RoI's class (<paramref name="labels"/> are logit indices).</summary>
    public Tensor Forward(Tensor pooled, IReadOnlyList<int> labels)
    {
        using var logits = Logits(pooled);
        return MaskProbabilities.Select(logits, labels);
    }
}
