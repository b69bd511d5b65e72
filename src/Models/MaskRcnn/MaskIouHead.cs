using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Dense;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// Mask Scoring R-CNN's MaskIoU head (spec §3.1): the mask branch's 14×14 pooled features with the
/// 2×2-max-pooled predicted mask appended as channel 257, three 3×3 convs, a stride-2 one, two FC 1024,
/// and a per-class IoU; each detection reads its own class.
/// </summary>
public sealed class MaskIouHead : IDisposable
{
    private const int Hidden = 1024;

    private readonly Tensor[] _convW = new Tensor[4], _convB = new Tensor[4];
    private readonly Tensor _fc1W, _fc1B, _fc2W, _fc2B, _iouW, _iouB;
    private readonly int _classes;

    public MaskIouHead(ParameterStore store, HeadNames names, MaskRcnnConfig config)
    {
        int channels = config.FeatureChannels;
        for (int i = 0; i < 4; i++)
        {
            _convW[i] = store.Take(names.MaskIouConv(i + 1) + ".weight", channels, i == 0 ? channels + 1 : channels, 3, 3);
            _convB[i] = store.Take(names.MaskIouConv(i + 1) + ".bias", channels);
        }
        _fc1W = store.Take(names.MaskIouFc1 + ".weight", Hidden, channels * 7 * 7);
        _fc1B = store.Take(names.MaskIouFc1 + ".bias", Hidden);
        _fc2W = store.Take(names.MaskIouFc2 + ".weight", Hidden, Hidden);
        _fc2B = store.Take(names.MaskIouFc2 + ".bias", Hidden);
        _classes = config.ClassLogits;
        _iouW = store.Take(names.MaskIou + ".weight", _classes, Hidden);
        _iouB = store.Take(names.MaskIou + ".bias", _classes);
    }

    /// <summary>Predicted mask IoU of each RoI's class, on the host.</summary>
    /// <param name="pooled">Mask-branch RoI features [R, C, 14, 14] (before the mask convs).</param>
    /// <param name="maskProbs">The selected-class mask probabilities [R, 28, 28].</param>
    public float[] Forward(Tensor pooled, Tensor maskProbs, IReadOnlyList<int> labels)
    {
        int r = pooled.Shape[0];
        using var mask4 = maskProbs.Reshape(r, 1, maskProbs.Shape[1], maskProbs.Shape[2]);
        using var pooledMask = MaxPool.Forward2d(mask4, 2, 2);
        var x = Concat.Forward([pooled, pooledMask], 1);
        for (int i = 0; i < 4; i++)
        {
            var p = new Conv2dParams { Padding = 1, Stride = i == 3 ? 2 : 1, FuseRelu = true };
            var next = Conv2d.Forward(x, _convW[i], _convB[i], p);
            x.Dispose();
            x = next;
        }
        using var flat = x.Reshape(r, -1);
        x.Dispose();
        using var h1 = Linear.Forward(flat, _fc1W, _fc1B, fuseRelu: true);
        using var h2 = Linear.Forward(h1, _fc2W, _fc2B, fuseRelu: true);
        using var iou = Linear.Forward(h2, _iouW, _iouB);
        var all = iou.ToArray<float>();
        var picked = new float[r];
        for (int i = 0; i < r; i++) picked[i] = all[i * _classes + labels[i]];
        return picked;
    }

    public void Dispose()
    {
        foreach (var t in _convW.Concat(_convB).Concat([_fc1W, _fc1B, _fc2W, _fc2B, _iouW, _iouB])) t.Dispose();
    }
}
