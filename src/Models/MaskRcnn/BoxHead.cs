using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Dense;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>Two-FC box head (C·7·7 → hidden → hidden, ReLU; 12544 → 1024 → 1024 for R50-FPN) and the predictor: class logits and class-specific deltas.</summary>
public sealed class BoxHead : IDisposable
{
    private readonly Tensor _fc1W, _fc1B, _fc2W, _fc2B, _clsW, _clsB, _boxW, _boxB;

    public BoxHead(ParameterStore store, HeadNames names, MaskRcnnConfig config, int pooled = 7)
    {
        int input = config.FeatureChannels * pooled * pooled, hidden = config.BoxHidden;
        _fc1W = store.Take(names.BoxFc1 + ".weight", hidden, input);
        _fc1B = store.Take(names.BoxFc1 + ".bias", hidden);
        _fc2W = store.Take(names.BoxFc2 + ".weight", hidden, hidden);
        _fc2B = store.Take(names.BoxFc2 + ".bias", hidden);
        _clsW = store.Take(names.ClassScore + ".weight", config.ClassLogits, hidden);
        _clsB = store.Take(names.ClassScore + ".bias", config.ClassLogits);
        _boxW = store.Take(names.BoxDeltas + ".weight", config.BoxClasses * 4, hidden);
        _boxB = store.Take(names.BoxDeltas + ".bias", config.BoxClasses * 4);
    }

    /// <summary>Class logits [R, classes] and deltas [R, 4·box classes] from pooled features [R, C, 7, 7].</summary>
    public (Tensor Logits, Tensor Deltas) Forward(Tensor pooled)
    {
        using var flat = pooled.Reshape(pooled.Shape[0], -1);
        using var h1 = Linear.Forward(flat, _fc1W, _fc1B, fuseRelu: true);
        using var h2 = Linear.Forward(h1, _fc2W, _fc2B, fuseRelu: true);
        return (Linear.Forward(h2, _clsW, _clsB), Linear.Forward(h2, _boxW, _boxB));
    }

    public void Dispose()
    {
        foreach (var t in new[] { _fc1W, _fc1B, _fc2W, _fc2B, _clsW, _clsB, _boxW, _boxB }) t.Dispose();
    }
}
