using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// BPR's HRNetRefine stem input: <c>conv1</c> (3×3/2, 3→64) over the image channels plus <c>conv_mask</c> (3×3/2,
/// 1→64) over the mask channel, summed, then BatchNorm <c>bn1</c> and ReLU. The sum of the two convs is one conv
/// over the 4-channel input with the weights concatenated on the input axis, which is how it runs (the input is
/// never split; the concatenation is on the tape, so training hands each stored weight its share of the gradient);
/// compiling folds the BatchNorm into that fused conv.
/// </summary>
public sealed class HrNetMaskedStem : Module
{
    private const int Channels = 64;

    private readonly Parameter _image;
    private readonly Parameter _mask;
    private readonly string _prefix;
    private BatchNormModule? _norm;
    private Parameter? _fusedWeight;
    private Parameter? _fusedBias;

    /// <param name="trainableNorm">A trainable <c>bn1</c> (<see cref="BatchNorm2d"/>) rather than a frozen one.</param>
    public HrNetMaskedStem(ParameterStore store, string prefix, double normEps, bool trainableNorm = false)
    {
        _prefix = prefix;
        _image = AddWeight(store, prefix + "conv1.weight", Channels, 3, 3, 3);
        _mask = AddWeight(store, prefix + "conv_mask.weight", Channels, 1, 3, 3);
        var norm = new BatchNormSpec(prefix + "bn1", normEps, trainableNorm);
        _norm = trainableNorm ? Child<BatchNormModule>(new BatchNorm2d(store, norm, Channels)) : Child<BatchNormModule>(new FrozenBatchNorm2d(store, norm, Channels));
    }

    private static Kernels.Convolution.Conv2dParams Params(bool relu) => new() { Stride = 2, Padding = 1, FuseRelu = relu };

    /// <summary>The stem's output for an [N, 4, H, W] input (RGB, then the mask).</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != 4)
            throw new ArgumentException($"{_prefix}stem: input {x.Shape} must be [N, 4, H, W] (image channels, then the mask)");
        if (_norm is null) return Functional.Conv2d(x, _fusedWeight!.Value, _fusedBias!.Value, Params(relu: true));
        using var scope = TensorScope.Begin();
        var weight = Functional.Concat([_image.Value, _mask.Value], 1);
        var normalised = _norm.Forward(Functional.Conv2d(x, weight, null, Params(relu: false)));
        return scope.Keep(Functional.Relu(normalised));
    }

    protected override void Compile()
    {
        var n = _norm!;
        using var weight = Concat.Forward([_image.Value, _mask.Value], 1);
        var (w, b) = BatchNormFolding.Fold(weight, null, n.Gamma.Value, n.Beta.Value, n.RunningMean.Value, n.RunningVar.Value, n.Eps);
        _fusedWeight = Register(new Parameter(_prefix + "stem.fused.weight", w.To(weight.Device)));
        _fusedBias = Register(new Parameter(_prefix + "stem.fused.bias", b.To(weight.Device)));
        w.Dispose();
        b.Dispose();
        _norm = null;
        RemoveChild(n);
    }
}
