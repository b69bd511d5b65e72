using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// Mask head: four 3×3 conv + ReLU on the 14×14 pooled features, a 2×2 stride-2 deconv + ReLU, a 1×1
/// class-specific predictor, and the sigmoid of each detection's own class channel (28×28).
/// </summary>
public sealed class MaskHead : IRoiMaskHead
{
    private const int Convs = 4;
    private static readonly Conv2dParams Conv3 = new() { Padding = 1, FuseRelu = true };
    private static readonly ConvTranspose2dParams Deconv = new() { Stride = 2, FuseRelu = true };

    private readonly Tensor[] _convW = new Tensor[Convs], _convB = new Tensor[Convs];
    private readonly Tensor _deconvW, _deconvB, _predW, _predB;

    public MaskHead(ParameterStore store, HeadNames names, MaskRcnnConfig config)
    {
        int channels = config.MaskChannels;
        for (int i = 0; i < Convs; i++)
        {
            _convW[i] = store.Take(names.MaskConv(i + 1) + ".weight", channels, i == 0 ? config.FeatureChannels : channels, 3, 3);
            _convB[i] = store.Take(names.MaskConv(i + 1) + ".bias", channels);
        }
        _deconvW = store.Take(names.MaskDeconv + ".weight", channels, channels, 2, 2);
        _deconvB = store.Take(names.MaskDeconv + ".bias", channels);
        _predW = store.Take(names.MaskPredictor + ".weight", config.BoxClasses, channels, 1, 1);
        _predB = store.Take(names.MaskPredictor + ".bias", config.BoxClasses);
    }

    /// <summary>Mask probabilities [R, 28, 28] of each RoI's class (<paramref name="labels"/> are logit indices).</summary>
    public Tensor Forward(Tensor pooled, IReadOnlyList<int> labels)
    {
        var x = pooled;
        for (int i = 0; i < Convs; i++)
        {
            var next = Conv2d.Forward(x, _convW[i], _convB[i], Conv3);
            if (!ReferenceEquals(x, pooled)) x.Dispose();
            x = next;
        }
        using var up = ConvTranspose2d.Forward(x, _deconvW, _deconvB, Deconv);
        x.Dispose();
        using var logits = Conv2d.Forward(up, _predW, _predB);
        return MaskProbabilities.Select(logits, labels);
    }

    public void Dispose()
    {
        foreach (var t in _convW.Concat(_convB).Append(_deconvW).Append(_deconvB).Append(_predW).Append(_predB)) t.Dispose();
    }
}
