using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// One pyramid level's FCOS outputs: class logits [N, K, H, W], ltrb distances in pixels [N, 4, H, W], centre-ness
/// logits [N, 1, H, W], and the box tower's output [N, C, H, W] when the head was asked to keep it.
/// </summary>
public sealed record FcosLevelOutput(Tensor Logits, Tensor Regression, Tensor Centerness, Tensor? BoxFeatures = null) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose();
        Regression.Dispose();
        Centerness.Dispose();
        BoxFeatures?.Dispose();
    }
}

/// <summary>
/// The FCOS head of BCNet and AdelaiDet (FCOSHead; towers and keys as <see cref="FcosConfig"/> sets them): an
/// optional shared tower, then cls and bbox towers of 3×3 conv + GroupNorm(32) + ReLU (empty towers pass their
/// input through), class logits on the cls tower, box regression and centre-ness on the bbox tower
/// (CENTERNESS_ON_REG), and at test time relu(scale_l · bbox_pred) · stride_l, without the scale when the config
/// has none.
/// </summary>
public sealed class FcosHead : Module
{
    private const int Groups = 32;

    private readonly FcosConfig _config;
    private readonly bool _keepBoxFeatures;
    private readonly Tower _share, _cls, _box;
    private readonly Conv2dLayer _logits, _centerness, _regression;
    private readonly Parameter[] _scales;
    private LevelRegression[]? _scaledRegression;

    /// <param name="keepBoxFeatures">Also return each level's bbox tower output (AdelaiDet's YIELD_BOX_FEATURES), for heads that read it.</param>
    public FcosHead(ParameterStore store, FcosConfig config, bool keepBoxFeatures = false)
    {
        _config = config;
        _keepBoxFeatures = keepBoxFeatures;
        int c = config.Channels;
        string prefix = config.Prefix;
        _share = Child(new Tower(store, prefix + "share_tower.", c, config.ShareConvs));
        _cls = Child(new Tower(store, prefix + "cls_tower.", c, config.ClsConvs));
        _box = Child(new Tower(store, prefix + "bbox_tower.", c, config.BoxConvs));
        _logits = Child(new Conv2dLayer(store, prefix + "cls_logits", ConvSpec.Same(c, config.Classes, 3, bias: true)));
        _centerness = Child(new Conv2dLayer(store, prefix + config.CenternessName, ConvSpec.Same(c, 1, 3, bias: true)));
        _regression = Child(new Conv2dLayer(store, prefix + "bbox_pred", ConvSpec.Same(c, 4, 3, bias: true)));
        _scales = config.UseScale ? [.. Enumerable.Range(0, config.Levels).Select(l => AddWeight(store, $"{prefix}scales.{l}.scale", 1))] : [];
    }

    /// <summary>The outputs for pyramid level index <paramref name="level"/> (0 = P3).</summary>
    public FcosLevelOutput Forward(Tensor feature, int level)
    {
        using var scope = TensorScope.Begin();
        var shared = _share.Forward(feature);
        var logits = _logits.Forward(_cls.Forward(shared));
        var box = _box.Forward(shared);
        return new FcosLevelOutput(scope.Keep(logits), scope.Keep(Regression(box, level)), scope.Keep(_centerness.Forward(box)),
            _keepBoxFeatures ? scope.Keep(box) : null);
    }

    /// <summary>Every level's outputs, P3 first.</summary>
    public IReadOnlyList<FcosLevelOutput> Forward(IReadOnlyList<Tensor> pyramid) => [.. pyramid.Select(Forward)];

    /// <summary>relu(scale_l · bbox_pred(x)) · stride_l.</summary>
    private Tensor Regression(Tensor box, int level)
    {
        if (_scaledRegression is { } compiled)
            return Conv2d.Forward(box, compiled[level].Weight, compiled[level].Bias, _regression.ConvParams with { FuseRelu = true });
        using var scope = TensorScope.Begin();
        float factor = RegressionFactor(level);
        return scope.Keep(Activation.Relu(Arithmetic.Affine(_regression.Forward(box), factor, 0f)));
    }

    private float RegressionFactor(int level) => (_config.UseScale ? _scales[level].Value.ToArray<float>()[0] : 1f) * FcosConfig.Strides[level];

    /// <summary>
    /// relu(s·conv(x))·stride = relu(conv'(x)) with conv' = (s·stride)·conv since stride &gt; 0, so each level gets
    /// its own scaled copy of bbox_pred with the ReLU fused, instead of two elementwise passes per level.
    /// </summary>
    protected override void Compile()
    {
        var w = _regression.Weight.Value.ToArray<float>();
        var b = _regression.Bias!.Value.ToArray<float>();
        var device = _regression.Weight.Value.Device;
        _scaledRegression = [.. Enumerable.Range(0, _config.Levels).Select(level =>
        {
            float factor = RegressionFactor(level);
            using var hostW = Tensor.FromArray(w.Select(v => v * factor).ToArray(), _regression.Weight.Shape.ToArray());
            using var hostB = Tensor.FromArray(b.Select(v => v * factor).ToArray(), b.Length);
            return new LevelRegression(TensorScope.Release(hostW.To(device)), TensorScope.Release(hostB.To(device)));
        })];
    }

    protected override void OnDispose()
    {
        foreach (var r in _scaledRegression ?? []) r.Dispose();
    }

    /// <summary>A level's compiled regression conv.</summary>
    private sealed record LevelRegression(Tensor Weight, Tensor Bias) : IDisposable
    {
        public void Dispose()
        {
            Weight.Dispose();
            Bias.Dispose();
        }
    }

    /// <summary>nn.Sequential of (conv, GroupNorm, ReLU) × n: convs at indices 0, 3, 6, … and norms at 1, 4, 7, …; n = 0 is the identity.</summary>
    private sealed class Tower : Module
    {
        private readonly Conv2dLayer[] _convs;
        private readonly GroupNormLayer[] _norms;

        public Tower(ParameterStore store, string prefix, int channels, int convs)
        {
            _convs = [.. Enumerable.Range(0, convs).Select(i => Child(new Conv2dLayer(store, $"{prefix}{3 * i}", ConvSpec.Same(channels, channels, 3, bias: true))))];
            _norms = [.. Enumerable.Range(0, convs).Select(i => Child(new GroupNormLayer(store, $"{prefix}{3 * i + 1}", channels, Groups, relu: true)))];
        }

        /// <summary>The tower's output; when the tower is empty, a handle of its own on the input, so callers own every output alike.</summary>
        public Tensor Forward(Tensor x)
        {
            if (_convs.Length == 0) return x.Share();
            using var scope = TensorScope.Begin();
            for (int i = 0; i < _convs.Length; i++) x = _norms[i].Forward(_convs[i].Forward(x));
            return scope.Keep(x);
        }
    }
}
