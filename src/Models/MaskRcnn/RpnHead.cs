using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>The RPN head shared by all levels: 3×3 conv + ReLU, then 1×1 objectness (A) and 1×1 deltas (4A).</summary>
public sealed class RpnHead : IDisposable
{
    private static readonly Conv2dParams Shared = new() { Padding = 1, FuseRelu = true };

    private readonly Tensor _convW, _convB, _logitsW, _logitsB, _deltasW, _deltasB;

    public RpnHead(ParameterStore store, HeadNames names, int channels = 256, int anchors = AnchorGenerator.PerCell)
    {
        _convW = store.Take(names.RpnConv + ".weight", channels, channels, 3, 3);
        _convB = store.Take(names.RpnConv + ".bias", channels);
        _logitsW = store.Take(names.RpnLogits + ".weight", anchors, channels, 1, 1);
        _logitsB = store.Take(names.RpnLogits + ".bias", anchors);
        _deltasW = store.Take(names.RpnDeltas + ".weight", anchors * 4, channels, 1, 1);
        _deltasB = store.Take(names.RpnDeltas + ".bias", anchors * 4);
    }

    /// <summary>Objectness logits [N, A, H, W] and anchor deltas [N, 4A, H, W] of one feature map.</summary>
    public (Tensor Logits, Tensor Deltas) Forward(Tensor feature)
    {
        using var hidden = Conv2d.Forward(feature, _convW, _convB, Shared);
        return (Conv2d.Forward(hidden, _logitsW, _logitsB), Conv2d.Forward(hidden, _deltasW, _deltasB));
    }

    public void Dispose()
    {
        foreach (var t in new[] { _convW, _convB, _logitsW, _logitsB, _deltasW, _deltasB }) t.Dispose();
    }
}
