using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// A transposed convolution <c>prefix.weight</c> [in, out, k, k] (torch's layout) and <c>prefix.bias</c> [out]: the
/// mask heads' 2×2 stride-2 upsampling, with its ReLU fused.
/// </summary>
public sealed class ConvTranspose2dLayer : Module
{
    private readonly ConvTranspose2dParams _params;

    public ConvTranspose2dLayer(ParameterStore store, string prefix, int inChannels, int outChannels, int kernel, int stride, bool relu)
    {
        _params = new ConvTranspose2dParams { Stride = stride, FuseRelu = relu };
        Weight = AddWeight(store, prefix + ".weight", inChannels, outChannels, kernel, kernel);
        Bias = AddWeight(store, prefix + ".bias", outChannels);
    }

    public Parameter Weight { get; }

    public Parameter Bias { get; }

    public Tensor Forward(Tensor x) => Functional.ConvTranspose2d(x, Weight.Value, Bias.Value, _params);
}
