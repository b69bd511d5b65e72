using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>GroupNorm with affine <c>prefix.weight</c>/<c>prefix.bias</c> [C] (eps 1e-5, torch's default), optionally followed by ReLU.</summary>
public sealed class GroupNormLayer : Module
{
    public GroupNormLayer(ParameterStore store, string prefix, int channels, int groups, bool relu)
    {
        Groups = groups;
        Relu = relu;
        Gamma = AddWeight(store, prefix + ".weight", channels);
        Beta = AddWeight(store, prefix + ".bias", channels);
    }

    /// <summary>torch.nn.GroupNorm's default, which detectron2 and AdelaiDet keep.</summary>
    public const float Eps = 1e-5f;

    public int Groups { get; }

    public bool Relu { get; }

    public Parameter Gamma { get; }

    public Parameter Beta { get; }

    public Tensor Forward(Tensor x) => Functional.GroupNorm(x, Groups, Gamma.Value, Beta.Value, Eps, Relu);
}
