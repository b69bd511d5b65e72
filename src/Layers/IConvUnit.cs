using NativeSeg.Engine.Tensors;

namespace NativeSeg.Layers;

/// <summary>A conv-norm-act unit: one NCHW map in, one out. Residual blocks chain them whatever their kind.</summary>
public interface IConvUnit
{
    Tensor Forward(Tensor x);
}
