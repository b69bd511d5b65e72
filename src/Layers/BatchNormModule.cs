using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// What every BatchNorm after a convolution holds: γ, β and the running statistics under the checkpoint's
/// <c>weight</c>, <c>bias</c>, <c>running_mean</c> and <c>running_var</c> keys, and the eval-mode per-channel affine
/// transform they make, which <see cref="Conv2dLayer"/> folds into the conv when compiled for inference.
/// </summary>
public abstract class BatchNormModule : Module
{
    /// <param name="trainableAffine">γ and β as weights (trainable) rather than buffers; the statistics are always buffers.</param>
    protected BatchNormModule(ParameterStore store, BatchNormSpec norm, int channels, bool trainableAffine)
    {
        Eps = norm.Eps;
        Gamma = trainableAffine ? AddWeight(store, norm.Prefix + ".weight", channels) : AddBuffer(store, norm.Prefix + ".weight", channels);
        Beta = trainableAffine ? AddWeight(store, norm.Prefix + ".bias", channels) : AddBuffer(store, norm.Prefix + ".bias", channels);
        RunningMean = AddBuffer(store, norm.Prefix + ".running_mean", channels);
        RunningVar = AddBuffer(store, norm.Prefix + ".running_var", channels);
    }

    public double Eps { get; }

    public Parameter Gamma { get; }

    public Parameter Beta { get; }

    public Parameter RunningMean { get; }

    public Parameter RunningVar { get; }

    /// <summary>The normalised NCHW input.</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>The eval-mode per-channel scale γ/√(var+eps) and shift β − mean·scale, on the buffers' device.</summary>
    public (Tensor Scale, Tensor Shift) Affine()
    {
        var (scale, shift) = BatchNormFolding.ChannelAffine(Gamma.Value, Beta.Value, RunningMean.Value, RunningVar.Value, Eps);
        using var hostScale = Tensor.FromArray(scale.Select(v => (float)v).ToArray(), scale.Length);
        using var hostShift = Tensor.FromArray(shift.Select(v => (float)v).ToArray(), shift.Length);
        return (hostScale.To(Gamma.Value.Device), hostShift.To(Gamma.Value.Device));
    }

    /// <summary>The input through <see cref="Affine"/>: γ, β and the statistics act as constants, so only x gets a gradient.</summary>
    protected Tensor EvalForward(Tensor x)
    {
        using var scope = TensorScope.Begin();
        var (scale, shift) = Affine();
        return scope.Keep(Functional.ChannelAffine(x, scale, shift));
    }
}
