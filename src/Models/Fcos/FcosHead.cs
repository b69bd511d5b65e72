using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Normalization;
using NativeSeg.Layers;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Fcos;

/// <summary>One pyramid level's FCOS outputs: class logits [N, K, H, W], ltrb distances in pixels [N, 4, H, W], centre-ness logits [N, 1, H, W].</summary>
public sealed record FcosLevelOutput(Tensor Logits, Tensor Regression, Tensor Centerness) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose();
        Regression.Dispose();
        Centerness.Dispose();
    }
}

/// <summary>
/// BCNet's FCOSHead (keys <c>head.*</c>): shared cls and bbox towers of four 3×3 conv + GroupNorm(32) + ReLU,
/// class logits on the cls tower, box regression and centre-ness on the bbox tower (CENTERNESS_ON_REG), and at
/// test time relu(scale_l · bbox_pred) · stride_l (NORM_REG_TARGETS).
/// </summary>
public sealed class FcosHead : IDisposable
{
    private const int TowerConvs = 4;
    private const int Groups = 32;

    private readonly Tower _cls, _box;
    private readonly Conv2dLayer _logits, _centerness;
    private readonly Conv2dLayer[] _regression;

    public FcosHead(ParameterStore store, FcosConfig config, string prefix = "head.")
    {
        int c = config.Channels;
        var owned = new List<IDisposable>();
        try
        {
            _cls = Own(new Tower(store, prefix + "cls_tower.", c));
            _box = Own(new Tower(store, prefix + "bbox_tower.", c));
            _logits = Own(Conv2dLayer.Load(store, prefix + "cls_logits", ConvSpec.Same(c, config.Classes, 3, bias: true)));
            _centerness = Own(Conv2dLayer.Load(store, prefix + "centerness", ConvSpec.Same(c, 1, 3, bias: true)));
            _regression = new Conv2dLayer[config.Levels];
            var w = store.Peek(prefix + "bbox_pred.weight", 4, c, 3, 3);
            var b = store.Peek(prefix + "bbox_pred.bias", 4);
            for (int l = 0; l < config.Levels; l++)
            {
                float scale = store.Peek($"{prefix}scales.{l}.scale", 1).ToArray<float>()[0];
                _regression[l] = Own(ScaledRegression(store, w, b, scale * FcosConfig.Strides[l]));
            }
        }
        catch
        {
            foreach (var o in owned) o.Dispose();
            throw;
        }

        T Own<T>(T layer) where T : IDisposable
        {
            owned.Add(layer);
            return layer;
        }
    }

    /// <summary>
    /// relu(s·conv(x))·stride = relu(conv'(x)) with conv' = (s·stride)·conv since stride &gt; 0, so each level gets
    /// its own scaled copy of bbox_pred with the ReLU fused, instead of two elementwise passes per level.
    /// </summary>
    private static Conv2dLayer ScaledRegression(ParameterStore store, Tensor weight, Tensor bias, float factor)
    {
        var w = weight.ToArray<float>();
        var b = bias.ToArray<float>();
        for (int i = 0; i < w.Length; i++) w[i] *= factor;
        for (int i = 0; i < b.Length; i++) b[i] *= factor;
        var dw = store.Upload(Tensor.FromArray(w, weight.Shape.ToArray()));
        try
        {
            return new Conv2dLayer(dw, store.Upload(Tensor.FromArray(b, b.Length)), new Conv2dParams { Padding = 1, FuseRelu = true });
        }
        catch
        {
            dw.Dispose();
            throw;
        }
    }

    /// <summary>The outputs for pyramid level index <paramref name="level"/> (0 = P3).</summary>
    public FcosLevelOutput Forward(Tensor feature, int level)
    {
        Tensor? logits = null, regression = null;
        try
        {
            using (var cls = _cls.Forward(feature)) logits = _logits.Forward(cls);
            using var box = _box.Forward(feature);
            regression = _regression[level].Forward(box);
            return new FcosLevelOutput(logits, regression, _centerness.Forward(box));
        }
        catch
        {
            logits?.Dispose();
            regression?.Dispose();
            throw;
        }
    }

    /// <summary>Every level's outputs, P3 first.</summary>
    public IReadOnlyList<FcosLevelOutput> Forward(IReadOnlyList<Tensor> pyramid)
    {
        var outputs = new List<FcosLevelOutput>(pyramid.Count);
        try
        {
            for (int l = 0; l < pyramid.Count; l++) outputs.Add(Forward(pyramid[l], l));
            return outputs;
        }
        catch
        {
            foreach (var o in outputs) o.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _cls.Dispose();
        _box.Dispose();
        _logits.Dispose();
        _centerness.Dispose();
        foreach (var r in _regression) r.Dispose();
    }

    /// <summary>nn.Sequential of (conv, GroupNorm, ReLU) × 4: convs at indices 0, 3, 6, 9 and norms at 1, 4, 7, 10.</summary>
    private sealed class Tower : IDisposable
    {
        private readonly Conv2dLayer[] _convs = new Conv2dLayer[TowerConvs];
        private readonly Tensor[] _gamma = new Tensor[TowerConvs], _beta = new Tensor[TowerConvs];

        public Tower(ParameterStore store, string prefix, int channels)
        {
            try
            {
                for (int i = 0; i < TowerConvs; i++)
                {
                    _convs[i] = Conv2dLayer.Load(store, $"{prefix}{3 * i}", ConvSpec.Same(channels, channels, 3, bias: true));
                    _gamma[i] = store.Take($"{prefix}{3 * i + 1}.weight", channels);
                    _beta[i] = store.Take($"{prefix}{3 * i + 1}.bias", channels);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public Tensor Forward(Tensor x)
        {
            var y = x;
            for (int i = 0; i < TowerConvs; i++)
            {
                using var conv = _convs[i].Forward(y);
                if (!ReferenceEquals(y, x)) y.Dispose();
                y = GroupNorm.Forward(conv, Groups, _gamma[i], _beta[i], relu: true);
            }
            return y;
        }

        public void Dispose()
        {
            foreach (var c in _convs) c?.Dispose();
            foreach (var t in _gamma.Concat(_beta)) t?.Dispose();
        }
    }
}
