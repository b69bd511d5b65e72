using NativeSeg.Engine.Tensors;

namespace NativeSeg.Layers.Backbones;

/// <summary>One residual block of a ResNet stage (bottleneck or basic), so a stage can hold either kind.</summary>
public interface IResidualBlock : IDisposable
{
    /// <summary>The block's output for an NCHW input, which stays the caller's.</summary>
    Tensor Forward(Tensor x);
}
