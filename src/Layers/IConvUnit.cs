using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;

namespace NativeSeg.Layers;

/// <summary>A conv-norm-act unit: one NCHW map in, one out. Residual blocks chain them whatever their kind.</summary>
public interface IConvUnit
{
    Tensor Forward(Tensor x);

    /// <summary>
    /// Forward(x) + <paramref name="residual"/> (the output's shape), then ReLU when <paramref name="relu"/>: a residual
    /// block's or FPN's join. Units whose kernel can add the residual in its epilogue do so; the others add it after.
    /// </summary>
    Tensor ForwardAdding(Tensor x, Tensor residual, bool relu) => Join(Forward(x), residual, relu);

    /// <summary>The join as a separate pass: y + residual, then ReLU when asked.</summary>
    static Tensor Join(Tensor y, Tensor residual, bool relu)
    {
        using var scope = TensorScope.Begin();
        return scope.Keep(relu ? Functional.AddRelu(y, residual) : Functional.Add(y, residual));
    }
}
