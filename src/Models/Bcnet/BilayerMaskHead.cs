using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Models.Bcnet;

/// <summary>The four probability maps [R, 28, 28] of the bilayer head, for `segment --explain`; the caller owns them.</summary>
public sealed record BilayerMasks(Tensor OccluderMask, Tensor OccluderBoundary, Tensor OccludeeMask, Tensor OccludeeBoundary) : IDisposable
{
    /// <summary>The maps on the host, one entry per RoI in pooling order.</summary>
    public IReadOnlyList<OcclusionMaps> PerRoi()
    {
        int rois = OccludeeMask.Shape[0], side = OccludeeMask.Shape[1], plane = side * side;
        float[] occluder = OccluderMask.ToArray<float>(), occluderBoundary = OccluderBoundary.ToArray<float>(),
            occludee = OccludeeMask.ToArray<float>(), occludeeBoundary = OccludeeBoundary.ToArray<float>();
        return Enumerable.Range(0, rois).Select(r => new OcclusionMaps(occluder[(r * plane)..((r + 1) * plane)],
            occluderBoundary[(r * plane)..((r + 1) * plane)], occludee[(r * plane)..((r + 1) * plane)],
            occludeeBoundary[(r * plane)..((r + 1) * plane)], side)).ToList();
    }

    public void Dispose()
    {
        OccluderMask.Dispose();
        OccluderBoundary.Dispose();
        OccludeeMask.Dispose();
        OccludeeBoundary.Dispose();
    }
}

/// <summary>
/// BCNet's bilayer mask head (specs/bcnet.md §1.3, §3.3): the occluder branch (boundary_fcn1–4 with a non-local
/// block after the second conv) feeds the occludee branch (mask_fcn1–4 on RoI feature + occluder features, its own
/// non-local block). The occludee's deconv + predictor give the final mask; the occluder mask and both boundaries
/// are computed only when explaining a prediction, since they never reach it.
/// </summary>
public sealed class BilayerMaskHead : IRoiMaskHead
{
    public const int MaskSide = 28;

    private const int Convs = 4;

    private readonly List<IDisposable> _owned = [];
    private readonly Conv2dLayer[] _occluder = new Conv2dLayer[Convs], _occludee = new Conv2dLayer[Convs];
    private readonly NonLocalBlock _occluderAttention, _occludeeAttention;
    private readonly Output _occludeeMask, _occludeeBoundary, _occluderMask, _occluderBoundary;

    /// <param name="maskClasses">Predictor channels: 1 in BCNet's class-agnostic configs, the class count in the Faster R-CNN port's default.</param>
    public BilayerMaskHead(ParameterStore store, int channels = 256, int maskClasses = 1, string prefix = "mask_head.")
    {
        try
        {
            var conv = ConvSpec.Same(channels, channels, 3, relu: true, bias: true);
            for (int i = 0; i < Convs; i++)
            {
                _occluder[i] = Own(Conv2dLayer.Load(store, $"{prefix}boundary_fcn{i + 1}", conv));
                _occludee[i] = Own(Conv2dLayer.Load(store, $"{prefix}mask_fcn{i + 1}", conv));
            }
            _occluderAttention = Own(new NonLocalBlock(store, prefix, "_bo", channels));
            _occludeeAttention = Own(new NonLocalBlock(store, prefix, "", channels));
            _occludeeMask = Own(new Output(store, prefix, "deconv", "predictor", channels, maskClasses));
            _occludeeBoundary = Own(new Output(store, prefix, "boundary_deconv", "boundary_predictor", channels, maskClasses));
            _occluderMask = Own(new Output(store, prefix, "bo_deconv", "predictor_bo", channels, maskClasses));
            _occluderBoundary = Own(new Output(store, prefix, "boundary_deconv_bo", "boundary_predictor_bo", channels, maskClasses));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Occludee mask probabilities [R, 28, 28] of each RoI's class from pooled RoI features [R, C, 14, 14].</summary>
    public Tensor Forward(Tensor pooled, IReadOnlyList<int> labels)
    {
        var (occluder, occludee) = Branches(pooled);
        using (occluder)
        using (occludee)
            return _occludeeMask.Probabilities(occludee, labels);
    }

    /// <summary>All four outputs of each RoI's class: what the final mask is made of, for showing it.</summary>
    public BilayerMasks Explain(Tensor pooled, IReadOnlyList<int> labels)
    {
        var (occluder, occludee) = Branches(pooled);
        using (occluder)
        using (occludee)
        {
            var maps = new List<Tensor>(4);
            try
            {
                maps.Add(_occluderMask.Probabilities(occluder, labels));
                maps.Add(_occluderBoundary.Probabilities(occluder, labels));
                maps.Add(_occludeeMask.Probabilities(occludee, labels));
                maps.Add(_occludeeBoundary.Probabilities(occludee, labels));
                return new BilayerMasks(maps[0], maps[1], maps[2], maps[3]);
            }
            catch
            {
                foreach (var m in maps) m.Dispose();
                throw;
            }
        }
    }

    /// <summary>The occluder branch's features and the occludee branch's, which reads the RoI feature plus the occluder's.</summary>
    private (Tensor Occluder, Tensor Occludee) Branches(Tensor pooled)
    {
        var occluder = Branch(pooled, _occluder, _occluderAttention);
        try
        {
            using var combined = Arithmetic.Add(pooled, occluder);
            return (occluder, Branch(combined, _occludee, _occludeeAttention));
        }
        catch
        {
            occluder.Dispose();
            throw;
        }
    }

    /// <summary>conv, conv, non-local, conv, conv — each conv with its ReLU.</summary>
    private static Tensor Branch(Tensor x, Conv2dLayer[] convs, NonLocalBlock attention)
    {
        var y = x;
        for (int i = 0; i < Convs; i++)
        {
            var next = convs[i].Forward(y);
            if (!ReferenceEquals(y, x)) y.Dispose();
            y = next;
            if (i == 1)
            {
                next = attention.Forward(y);
                y.Dispose();
                y = next;
            }
        }
        return y;
    }

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    /// <summary>One of the four outputs: 2×2 stride-2 deconv + ReLU to 28×28, then a 1×1 predictor.</summary>
    private sealed class Output : IDisposable
    {
        private static readonly ConvTranspose2dParams Deconv = new() { Stride = 2, FuseRelu = true };

        private readonly Tensor _deconvW, _deconvB;
        private readonly Conv2dLayer _predictor;

        public Output(ParameterStore store, string prefix, string deconv, string predictor, int channels, int classes)
        {
            // ConvTranspose2d weights are [in, out, kH, kW].
            _deconvW = store.Take($"{prefix}{deconv}.weight", channels, channels, 2, 2);
            try
            {
                _deconvB = store.Take($"{prefix}{deconv}.bias", channels);
                try
                {
                    _predictor = Conv2dLayer.Load(store, prefix + predictor, new ConvSpec(channels, classes, 1, Bias: true));
                }
                catch
                {
                    _deconvB.Dispose();
                    throw;
                }
            }
            catch
            {
                _deconvW.Dispose();
                throw;
            }
        }

        public Tensor Probabilities(Tensor features, IReadOnlyList<int> labels)
        {
            using var up = ConvTranspose2d.Forward(features, _deconvW, _deconvB, Deconv);
            using var logits = _predictor.Forward(up);
            return MaskProbabilities.Select(logits, labels);
        }

        public void Dispose()
        {
            _deconvW.Dispose();
            _deconvB.Dispose();
            _predictor.Dispose();
        }
    }
}
