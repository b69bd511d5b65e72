using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>Two-FC box head (C·7·7 → hidden → hidden, ReLU; 12544 → 1024 → 1024 for R50-FPN) and the predictor: class logits and class-specific deltas.</summary>
public sealed class BoxHead : Module
{
    private readonly LinearLayer _fc1, _fc2, _classes, _deltas;

    public BoxHead(ParameterStore store, HeadNames names, MaskRcnnConfig config, int pooled = 7)
    {
        int input = config.FeatureChannels * pooled * pooled, hidden = config.BoxHidden;
        _fc1 = Child(new LinearLayer(store, names.BoxFc1, input, hidden, relu: true));
        _fc2 = Child(new LinearLayer(store, names.BoxFc2, hidden, hidden, relu: true));
        _classes = Child(new LinearLayer(store, names.ClassScore, hidden, config.ClassLogits));
        _deltas = Child(new LinearLayer(store, names.BoxDeltas, hidden, config.BoxClasses * 4));
    }

    /// <summary>The class-specific layers, which a finetune to another category set re-initialises.</summary>
    public IReadOnlyList<LinearLayer> Predictors => [_classes, _deltas];

    /// <summary>Class logits [R, classes] and deltas [R, 4·box classes] from pooled features [R, C, 7, 7].</summary>
    public (Tensor Logits, Tensor Deltas) Forward(Tensor pooled)
    {
        using var scope = TensorScope.Begin();
        // Through the tape-aware reshape: a plain view would cut the graph, and the box losses would train the
        // heads but never reach the FPN and backbone through the pooled features.
        var hidden = _fc2.Forward(_fc1.Forward(Functional.Reshape(pooled, pooled.Shape[0], -1)));
        return scope.Keep((_classes.Forward(hidden), _deltas.Forward(hidden)));
    }
}
