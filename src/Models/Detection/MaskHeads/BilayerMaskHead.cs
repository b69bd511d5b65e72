using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.Detection.MaskHeads;

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
public sealed class BilayerMaskHead : Module, IRoiMaskHead
{
    public const int MaskSide = 28;

    private const int Convs = 4;

    private readonly Conv2dLayer[] _occluder, _occludee;
    private readonly NonLocalBlock _occluderAttention, _occludeeAttention;
    private readonly Output _occludeeMask, _occludeeBoundary, _occluderMask, _occluderBoundary;

    /// <param name="maskClasses">Predictor channels: 1 in BCNet's class-agnostic configs, the class count in the Faster R-CNN port's default.</param>
    public BilayerMaskHead(ParameterStore store, int channels = 256, int maskClasses = 1, string prefix = "mask_head.")
    {
        var conv = ConvSpec.Same(channels, channels, 3, relu: true, bias: true);
        _occluder = [.. Enumerable.Range(1, Convs).Select(i => Child(new Conv2dLayer(store, $"{prefix}boundary_fcn{i}", conv)))];
        _occludee = [.. Enumerable.Range(1, Convs).Select(i => Child(new Conv2dLayer(store, $"{prefix}mask_fcn{i}", conv)))];
        _occluderAttention = Child(new NonLocalBlock(store, prefix, "_bo", channels));
        _occludeeAttention = Child(new NonLocalBlock(store, prefix, "", channels));
        _occludeeMask = Child(new Output(store, prefix, "deconv", "predictor", channels, maskClasses));
        _occludeeBoundary = Child(new Output(store, prefix, "boundary_deconv", "boundary_predictor", channels, maskClasses));
        _occluderMask = Child(new Output(store, prefix, "bo_deconv", "predictor_bo", channels, maskClasses));
        _occluderBoundary = Child(new Output(store, prefix, "boundary_deconv_bo", "boundary_predictor_bo", channels, maskClasses));
    }

    /// <summary>Occludee mask probabilities [R, 28, 28] of each RoI's class from pooled RoI features [R, C, 14, 14].</summary>
    public Tensor Forward(Tensor pooled, IReadOnlyList<int> labels)
    {
        using var scope = TensorScope.Begin();
        var (_, occludee) = Branches(pooled);
        return scope.Keep(_occludeeMask.Probabilities(occludee, labels));
    }

    /// <summary>The occludee mask logits [R, maskClasses, 28, 28] of pooled RoI features [R, C, 14, 14], every channel, for callers that pick it on the device.</summary>
    public Tensor Logits(Tensor pooled)
    {
        using var scope = TensorScope.Begin();
        var (_, occludee) = Branches(pooled);
        return scope.Keep(_occludeeMask.Logits(occludee));
    }

    /// <summary>All four outputs of each RoI's class: what the final mask is made of, for showing it.</summary>
    public BilayerMasks Explain(Tensor pooled, IReadOnlyList<int> labels)
    {
        using var scope = TensorScope.Begin();
        var (occluder, occludee) = Branches(pooled);
        return new BilayerMasks(scope.Keep(_occluderMask.Probabilities(occluder, labels)), scope.Keep(_occluderBoundary.Probabilities(occluder, labels)),
            scope.Keep(_occludeeMask.Probabilities(occludee, labels)), scope.Keep(_occludeeBoundary.Probabilities(occludee, labels)));
    }

    /// <summary>The occluder branch's features and the occludee branch's, which reads the RoI feature plus the occluder's; owned by the current scope.</summary>
    private (Tensor Occluder, Tensor Occludee) Branches(Tensor pooled)
    {
        var occluder = Branch(pooled, _occluder, _occluderAttention);
        return (occluder, Branch(Arithmetic.Add(pooled, occluder), _occludee, _occludeeAttention));
    }

    /// <summary>conv, conv, non-local, conv, conv — each conv with its ReLU.</summary>
    private static Tensor Branch(Tensor x, Conv2dLayer[] convs, NonLocalBlock attention)
    {
        for (int i = 0; i < Convs; i++)
        {
            x = convs[i].Forward(x);
            if (i == 1) x = attention.Forward(x);
        }
        return x;
    }

    /// <summary>One of the four outputs: 2×2 stride-2 deconv + ReLU to 28×28, then a 1×1 predictor.</summary>
    private sealed class Output : Module
    {
        private readonly ConvTranspose2dLayer _deconv;
        private readonly Conv2dLayer _predictor;

        public Output(ParameterStore store, string prefix, string deconv, string predictor, int channels, int classes)
        {
            _deconv = Child(new ConvTranspose2dLayer(store, prefix + deconv, channels, channels, 2, 2, relu: true));
            _predictor = Child(new Conv2dLayer(store, prefix + predictor, new ConvSpec(channels, classes, 1, Bias: true)));
        }

        public Tensor Logits(Tensor features)
        {
            using var scope = TensorScope.Begin();
            return scope.Keep(_predictor.Forward(_deconv.Forward(features)));
        }

        public Tensor Probabilities(Tensor features, IReadOnlyList<int> labels)
        {
            using var logits = Logits(features);
            return MaskProbabilities.Select(logits, labels);
        }
    }
}
