using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// A BatchNorm with fixed statistics and affine terms (detectron2's and torchvision's FrozenBatchNorm2d): all four
/// tensors are buffers, y = (x − mean)/√(var + eps)·weight + bias per channel. Detection training keeps it frozen,
/// as both frameworks do with batches of two images; inference folds it into the conv before it.
/// </summary>
public sealed class FrozenBatchNorm2d : Module
{
    public FrozenBatchNorm2d(ParameterStore store, FrozenNorm norm, int channels)
    {
        Eps = norm.Eps;
        Gamma = AddBuffer(store, norm.Prefix + ".weight", channels);
        Beta = AddBuffer(store, norm.Prefix + ".bias", channels);
        RunningMean = AddBuffer(store, norm.Prefix + ".running_mean", channels);
        RunningVar = AddBuffer(store, norm.Prefix + ".running_var", channels);
    }

    public double Eps { get; }

    public Parameter Gamma { get; }

    public Parameter Beta { get; }

    public Parameter RunningMean { get; }

    public Parameter RunningVar { get; }

    /// <summary>The per-channel scale γ/√(var+eps) and shift β − mean·scale, on the buffers' device.</summary>
    public (Tensor Scale, Tensor Shift) Affine()
    {
        var (scale, shift) = BatchNormFolding.ChannelAffine(Gamma.Value, Beta.Value, RunningMean.Value, RunningVar.Value, Eps);
        using var hostScale = Tensor.FromArray(scale.Select(v => (float)v).ToArray(), scale.Length);
        using var hostShift = Tensor.FromArray(shift.Select(v => (float)v).ToArray(), shift.Length);
        return (hostScale.To(Gamma.Value.Device), hostShift.To(Gamma.Value.Device));
    }

    /// <summary>The normalised NCHW input.</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = TensorScope.Begin();
        var (scale, shift) = Affine();
        return scope.Keep(Functional.ChannelAffine(x, scale, shift));
    }
}
