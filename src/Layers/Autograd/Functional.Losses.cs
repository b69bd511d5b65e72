using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Losses;

namespace NativeSeg.Layers.Autograd;

public static partial class Functional
{
    /// <summary>Softmax cross-entropy of logits [R, C] against int64 classes [R]; targets are constants.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, LossReduction reduction = LossReduction.Mean, float scale = 1f) =>
        Loss("cross_entropy", logits, targets, l => CrossEntropyLoss.Forward(l, targets, reduction, scale),
            (l, t, g) => CrossEntropyLoss.Backward(l, t, reduction, scale, g));

    /// <summary>Sigmoid binary cross-entropy with logits, elementwise targets in [0, 1].</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, LossReduction reduction = LossReduction.Mean, float scale = 1f) =>
        Loss("binary_cross_entropy_with_logits", logits, targets, l => BinaryCrossEntropyLoss.Forward(l, targets, reduction, scale),
            (l, t, g) => BinaryCrossEntropyLoss.Backward(l, t, reduction, scale, g));

    /// <summary>Smooth-L1 with <paramref name="beta"/> (0 is L1, as detectron2's box losses use it).</summary>
    public static Tensor SmoothL1(Tensor input, Tensor target, float beta, LossReduction reduction = LossReduction.Mean, float scale = 1f) =>
        Loss("smooth_l1", input, target, x => SmoothL1Loss.Forward(x, target, beta, reduction, scale),
            (x, t, g) => SmoothL1Loss.Backward(x, t, beta, reduction, scale, g));

    public static Tensor L1(Tensor input, Tensor target, LossReduction reduction = LossReduction.Mean, float scale = 1f) =>
        Loss("l1", input, target, x => L1Loss.Forward(x, target, reduction, scale),
            (x, t, g) => L1Loss.Backward(x, t, reduction, scale, g));

    /// <summary>Rows <paramref name="index"/> (int64, on the CPU) of x; the gradient is added back to the rows read.</summary>
    public static Tensor GatherRows(Tensor x, Tensor index)
    {
        var y = Gather.Rows(x, index);
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("gather_rows", [x], [y]);
        var savedIndex = node.Save(index);
        int rows = x.Shape[0];
        tape.Add(node.WithBackward((g, _) => [GatherBackward.Rows(g[0]!, savedIndex, rows)]));
        return y;
    }

    /// <summary>A one-element loss of <paramref name="input"/> against constant targets; the backward scales by the upstream gradient.</summary>
    private static Tensor Loss(string op, Tensor input, Tensor targets, Func<Tensor, Tensor> forward, Func<Tensor, Tensor, Tensor, Tensor> backward)
    {
        var loss = forward(input);
        if (Tape.Current is not { } tape) return loss;
        var node = new TapeNode(op, [input], [loss]);
        var savedInput = node.Save(input);
        var savedTargets = node.Save(targets);
        tape.Add(node.WithBackward((g, _) => [backward(savedInput, savedTargets, g[0]!)]));
        return loss;
    }
}
