using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// Mask Scoring R-CNN's MaskIoU head (spec §3.1): the mask branch's 14×14 pooled features with the
/// 2×2-max-pooled predicted mask appended as channel 257, three 3×3 convs, a stride-2 one, two FC 1024,
/// and a per-class IoU; each detection reads its own class.
/// </summary>
public sealed class MaskIouHead : Module
{
    private const int Hidden = 1024;

    private readonly Conv2dLayer[] _convs;
    private readonly LinearLayer _fc1, _fc2, _iou;

    public MaskIouHead(ParameterStore store, HeadNames names, MaskRcnnConfig config)
    {
        int channels = config.FeatureChannels;
        _convs = [.. Enumerable.Range(0, 4).Select(i => Child(new Conv2dLayer(store, names.MaskIouConv(i + 1),
            new ConvSpec(i == 0 ? channels + 1 : channels, channels, 3, Stride: i == 3 ? 2 : 1, Padding: 1, Relu: true, Bias: true))))];
        _fc1 = Child(new LinearLayer(store, names.MaskIouFc1, channels * 7 * 7, Hidden, relu: true));
        _fc2 = Child(new LinearLayer(store, names.MaskIouFc2, Hidden, Hidden, relu: true));
        _iou = Child(new LinearLayer(store, names.MaskIou, Hidden, config.ClassLogits));
    }

    /// <summary>Predicted mask IoU of each RoI's class, on the host.</summary>
    /// <param name="pooled">Mask-branch RoI features [R, C, 14, 14] (before the mask convs).</param>
    /// <param name="maskProbs">The selected-class mask probabilities [R, 28, 28].</param>
    public float[] Forward(Tensor pooled, Tensor maskProbs, IReadOnlyList<int> labels)
    {
        using var scope = TensorScope.Begin();
        var all = AllClasses(pooled, maskProbs).ToArray<float>();
        int r = pooled.Shape[0], classes = _iou.OutFeatures;
        var picked = new float[r];
        for (int i = 0; i < r; i++) picked[i] = all[i * classes + labels[i]];
        return picked;
    }

    /// <summary>
    /// Every class's predicted IoU [R, classes] of each RoI, in the caller's scope: on a device, nothing is read back.
    /// </summary>
    internal Tensor AllClasses(Tensor pooled, Tensor maskProbs)
    {
        int r = pooled.Shape[0];
        var pooledMask = MaxPool.Forward2d(maskProbs.Reshape(r, 1, maskProbs.Shape[1], maskProbs.Shape[2]), 2, 2);
        var x = Concat.Forward([pooled, pooledMask], 1);
        foreach (var conv in _convs) x = conv.Forward(x);
        return _iou.Forward(_fc2.Forward(_fc1.Forward(x.Reshape(r, -1))));
    }
}
