using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.DeformConv2d;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// detectron2's DeformBottleneckBlock conv2 unit: an ordinary conv (<c>conv2_offset</c>, with bias) predicts each
/// tap's offsets, and for the modulated kind (DCNv2) its mask logits, from the same input; the deformable conv
/// (<c>conv2</c>, no bias) samples there, then the frozen BatchNorm and ReLU follow, folded and fused once compiled.
/// </summary>
/// <remarks>
/// The offset conv's 3·k² channels are [(dy, dx) interleaved per tap | k² mask logits]: detectron2 names its
/// chunks offset_x, offset_y and mask but concatenates the first two back, so the layout is torchvision's.
/// Inference only: the deformable conv has no backward yet, so a recording tape that needs its gradient is refused.
/// </remarks>
public sealed class DeformConv2dLayer : Module, IConvUnit
{
    private readonly Conv2dLayer _offset;
    private readonly Conv2dLayer _conv;
    private readonly int _taps;

    /// <param name="spec">The deformable conv's geometry; its ReLU applies after the BatchNorm.</param>
    /// <param name="offsetPrefix">Prefix of the offset conv's weight and bias.</param>
    public DeformConv2dLayer(ParameterStore store, string weightKey, string offsetPrefix, ConvSpec spec, BatchNormSpec? norm, bool modulated)
    {
        Modulated = modulated;
        _taps = spec.Kernel * spec.Kernel;
        // Only the weight, norm and their folding are used from this layer; its own forward would not deform.
        _conv = Child(new Conv2dLayer(store, weightKey, null, spec, norm));
        _offset = Child(new Conv2dLayer(store, offsetPrefix,
            new ConvSpec(spec.InChannels, (modulated ? 3 : 2) * _taps, spec.Kernel, spec.Stride, spec.Padding, Bias: true)));
    }

    public bool Modulated { get; }

    public Tensor Forward(Tensor x)
    {
        // The tensors whose gradient would have to pass through the deformable conv: its input, its weight and the
        // offset conv's (the norm after it records its own gradients).
        if (Tape.Current is { } tape && (tape.RequiresGrad(x) || tape.RequiresGrad(_conv.Weight.Value)
            || tape.RequiresGrad(_offset.Weight.Value) || tape.RequiresGrad(_offset.Bias?.Value)))
            throw new NotSupportedException($"deformable conv {_conv.Weight.Key}: training through deformable convolutions is not supported yet");
        using var scope = TensorScope.Begin();
        var predicted = _offset.Forward(x);
        var parameters = new DeformConv2dParams
        {
            Convolution = _conv.ConvParams with { FuseRelu = _conv.Norm is null && _conv.Spec.Relu },
        };
        var images = new Tensor[x.Shape[0]];
        for (int n = 0; n < images.Length; n++) images[n] = Image(x, predicted, n, parameters);
        var y = images.Length == 1 ? images[0] : Concat.Forward(images, 0);
        if (_conv.Norm is not { } norm) return scope.Keep(y);
        var normalised = norm.Forward(y);
        return scope.Keep(_conv.Spec.Relu ? Activation.Relu(normalised) : normalised);
    }

    /// <summary>Image <paramref name="n"/>'s output, its offsets and masks read as views of the predicted map.</summary>
    private Tensor Image(Tensor x, Tensor predicted, int n, DeformConv2dParams parameters)
    {
        using var scope = TensorScope.Begin();
        int h = predicted.Shape[2], w = predicted.Shape[3];
        var channels = predicted.Slice(n, 1).Reshape(predicted.Shape[1], h, w);
        var offsets = channels.Slice(0, 2 * _taps).Reshape(1, 2 * _taps, h, w);
        var masks = Modulated ? Activation.Sigmoid(channels.Slice(2 * _taps, _taps).Reshape(1, _taps, h, w)) : null;
        var input = x.Shape[0] == 1 ? x : x.Slice(n, 1);
        return scope.Keep(DeformConv2d.Forward(input, offsets, masks, _conv.Weight.Value, _conv.Bias?.Value, parameters));
    }
}
