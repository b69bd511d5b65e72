using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>A fully connected layer <c>prefix.weight</c> [out, in] and <c>prefix.bias</c> [out], with an optional fused ReLU.</summary>
public sealed class LinearLayer : Module
{
    public LinearLayer(ParameterStore store, string prefix, int inFeatures, int outFeatures, bool relu = false)
    {
        Relu = relu;
        Weight = AddWeight(store, prefix + ".weight", outFeatures, inFeatures);
        Bias = AddWeight(store, prefix + ".bias", outFeatures);
    }

    public Parameter Weight { get; }

    public Parameter Bias { get; }

    public bool Relu { get; }

    public int OutFeatures => Weight.Shape[0];

    /// <summary>The weight in float16, for the half GEMM; the bias stays float, added to the widened output.</summary>
    protected override void UseHalfWeights() => Weight.ConvertTo(DType.Float16);

    /// <summary>[R, out] from [R, in] (the caller flattens pooled features).</summary>
    public Tensor Forward(Tensor x) => Functional.Linear(x, Weight.Value, Bias.Value, Relu);
}
