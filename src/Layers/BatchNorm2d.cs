using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// torch.nn.BatchNorm2d for a model trained from scratch: γ and β are trainable weights and the running statistics
/// buffers. In training mode (<see cref="Training"/>) it normalises with the batch's statistics, records itself on
/// the tape and moves the running statistics towards the batch's (momentum 0.1, torch's default); in eval mode it
/// is the affine transform of the running statistics, which inference folds into the conv before it.
/// </summary>
public sealed class BatchNorm2d : BatchNormModule
{
    /// <summary>torch.nn.BatchNorm2d's default, which torchvision's ResNets keep.</summary>
    public const float Momentum = 0.1f;

    public BatchNorm2d(ParameterStore store, BatchNormSpec norm, int channels) : base(store, norm, channels, trainableAffine: true)
    {
    }

    /// <summary>Batch statistics and running-statistics updates (torch's train()); off by default, as inference wants.</summary>
    public bool Training { get; set; }

    /// <remarks>In eval mode γ and β act as constants, as in a frozen BatchNorm: a trainer puts the module in training mode.</remarks>
    public override Tensor Forward(Tensor x) =>
        Training ? Functional.BatchNorm(x, Gamma.Value, Beta.Value, RunningMean.Value, RunningVar.Value, Momentum, (float)Eps) : EvalForward(x);
}
