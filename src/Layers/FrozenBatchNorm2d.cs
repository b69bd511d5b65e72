using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// A BatchNorm with fixed statistics and affine terms (detectron2's and torchvision's FrozenBatchNorm2d): all four
/// tensors are buffers, y = (x − mean)/√(var + eps)·weight + bias per channel. Detection training keeps it frozen,
/// as both frameworks do with batches of two images; inference folds it into the conv before it.
/// </summary>
public sealed class FrozenBatchNorm2d : BatchNormModule
{
    public FrozenBatchNorm2d(ParameterStore store, BatchNormSpec norm, int channels) : base(store, norm, channels, trainableAffine: false)
    {
    }

    public override Tensor Forward(Tensor x) => EvalForward(x);
}
