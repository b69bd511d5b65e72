using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// BCNet's bilayer mask head at inference (specs/bcnet.md §1.3, §3.3): the occluder branch (boundary_fcn1–4 with a
/// non-local block after the second conv) feeds the occludee branch (mask_fcn1–4 on RoI feature + occluder
/// features, its own non-local block), whose deconv + 1-channel predictor give the final class-agnostic mask.
/// The occluder and boundary predictors never reach the output, so their weights are only shape-checked.
/// </summary>
public sealed class BilayerMaskHead : IDisposable
{
    public const int MaskSide = 28;

    private const int Convs = 4;
    private static readonly ConvTranspose2dParams Deconv = new() { Stride = 2, FuseRelu = true };

    /// <summary>Weights of the outputs inference does not compute: occluder mask and both boundaries.</summary>
    private static readonly string[] UnusedDeconvs = ["boundary_deconv_bo", "boundary_deconv", "bo_deconv"];
    private static readonly string[] UnusedPredictors = ["predictor_bo", "boundary_predictor_bo", "boundary_predictor"];

    private readonly List<IDisposable> _owned = [];
    private readonly Conv2dLayer[] _occluder = new Conv2dLayer[Convs], _occludee = new Conv2dLayer[Convs];
    private readonly NonLocalBlock _occluderAttention, _occludeeAttention;
    private readonly Tensor _deconvW, _deconvB;
    private readonly Conv2dLayer _predictor;

    public BilayerMaskHead(ParameterStore store, int channels = 256, string prefix = "mask_head.")
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
            _deconvW = Own(store.Take(prefix + "deconv.weight", channels, channels, 2, 2));
            _deconvB = Own(store.Take(prefix + "deconv.bias", channels));
            _predictor = Own(Conv2dLayer.Load(store, prefix + "predictor", new ConvSpec(channels, 1, 1, Bias: true)));
            foreach (var name in UnusedDeconvs)
            {
                store.Peek($"{prefix}{name}.weight", channels, channels, 2, 2);
                store.Peek($"{prefix}{name}.bias", channels);
            }
            foreach (var name in UnusedPredictors)
            {
                store.Peek($"{prefix}{name}.weight", 1, channels, 1, 1);
                store.Peek($"{prefix}{name}.bias", 1);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Occludee mask probabilities [R, 28, 28] from pooled RoI features [R, C, 14, 14].</summary>
    public Tensor Forward(Tensor pooled)
    {
        int rois = pooled.Shape[0];
        using var occluder = Branch(pooled, _occluder, _occluderAttention);
        using var combined = Arithmetic.Add(pooled, occluder);
        using var occludee = Branch(combined, _occludee, _occludeeAttention);
        using var up = ConvTranspose2d.Forward(occludee, _deconvW, _deconvB, Deconv);
        using var logits = _predictor.Forward(up);
        using var probs = Activation.Sigmoid(logits);
        return probs.Reshape(rois, MaskSide, MaskSide);
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
}
