using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// A convolution with its weights on the model's device; a frozen BatchNorm after it is folded into the
/// weight and bias at load time and a ReLU is fused into the conv's epilogue, so the whole conv-norm-act
/// unit is one kernel call.
/// </summary>
public sealed class Conv2dLayer : IDisposable
{
    private readonly Tensor _weight;
    private readonly Tensor? _bias;

    /// <summary>Takes ownership of <paramref name="weight"/> and <paramref name="bias"/>.</summary>
    public Conv2dLayer(Tensor weight, Tensor? bias, Conv2dParams parameters)
    {
        _weight = weight;
        _bias = bias;
        Params = parameters;
    }

    public Conv2dParams Params { get; }

    public int OutChannels => _weight.Shape[0];

    public int InChannels => _weight.Shape[1] * Params.Groups;

    /// <summary><c>prefix.weight</c>, and <c>prefix.bias</c> when the spec has one (detectron2's and most heads' layout).</summary>
    public static Conv2dLayer Load(ParameterStore store, string prefix, ConvSpec spec, FrozenNorm? norm = null) =>
        Load(store, prefix + ".weight", spec.Bias ? prefix + ".bias" : null, spec, norm);

    /// <summary>A conv whose weight and bias names are given outright, optionally followed by a frozen BatchNorm.</summary>
    public static Conv2dLayer Load(ParameterStore store, string weightName, string? biasName, ConvSpec spec, FrozenNorm? norm)
    {
        if (spec.InChannels % spec.Groups != 0)
            throw new ArgumentException($"conv {weightName}: {spec.InChannels} input channels do not divide into {spec.Groups} groups");
        int[] weightShape = [spec.OutChannels, spec.InChannels / spec.Groups, spec.Kernel, spec.Kernel];
        var p = new Conv2dParams { Stride = spec.Stride, Padding = spec.Padding, Groups = spec.Groups, FuseRelu = spec.Relu };
        if (norm is null)
        {
            var weight = store.Take(weightName, weightShape);
            try
            {
                return new Conv2dLayer(weight, biasName is null ? null : store.Take(biasName, spec.OutChannels), p);
            }
            catch
            {
                weight.Dispose();
                throw;
            }
        }
        int k = spec.OutChannels;
        var (w, b) = BatchNormFolding.Fold(store.Peek(weightName, weightShape), biasName is null ? null : store.Peek(biasName, k),
            store.Peek(norm.Prefix + ".weight", k), store.Peek(norm.Prefix + ".bias", k),
            store.Peek(norm.Prefix + ".running_mean", k), store.Peek(norm.Prefix + ".running_var", k), norm.Eps);
        var folded = store.Upload(w);
        try
        {
            return new Conv2dLayer(folded, store.Upload(b), p);
        }
        catch
        {
            folded.Dispose();
            throw;
        }
    }

    public Tensor Forward(Tensor x) => Conv2d.Forward(x, _weight, _bias, Params);

    public void Dispose()
    {
        _weight.Dispose();
        _bias?.Dispose();
    }
}
