using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.Elementwise;

namespace NativeSeg.Layers.Autograd;

public static partial class Functional
{
    public static Tensor Relu(Tensor x)
    {
        var y = Activation.Relu(x);
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("relu", [x], [y]);
        var savedY = node.Save(y);
        tape.Add(node.WithBackward((g, _) => [Activation.ReluBackward(g[0]!, savedY)]));
        return y;
    }

    /// <summary>a + b of equal shapes; the gradient passes to both unchanged.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var y = Arithmetic.Add(a, b);
        if (Tape.Current is not { } tape) return y;
        tape.Add(new TapeNode("add", [a, b], [y]).WithBackward((g, need) => [need[0] ? g[0]!.Share() : null, need[1] ? g[0]!.Share() : null]));
        return y;
    }

    /// <summary>relu(a + b): a residual block's join.</summary>
    public static Tensor AddRelu(Tensor a, Tensor b)
    {
        var y = Arithmetic.AddRelu(a, b);
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("add_relu", [a, b], [y]);
        var savedY = node.Save(y);
        tape.Add(node.WithBackward((g, need) =>
        {
            var dy = Activation.ReluBackward(g[0]!, savedY);
            return [need[0] ? dy.Share() : null, need[1] ? dy.Share() : null];
        }));
        return y;
    }

    /// <summary>
    /// y = x·scale[c] + shift[c] along the channel axis of NCHW: a frozen BatchNorm. The scale and shift are constants
    /// (derived from buffers), so only x gets a gradient.
    /// </summary>
    public static Tensor ChannelAffine(Tensor x, Tensor scale, Tensor shift)
    {
        using var scope = TensorScope.Begin();
        var y = scope.Keep(Arithmetic.BroadcastAxis(Arithmetic.BroadcastAxis(x, scale, BinaryOp.Mul), shift, BinaryOp.Add));
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("channel_affine", [x], [y]);
        var savedScale = node.Save(scale);
        tape.Add(node.WithBackward((g, _) => [Arithmetic.BroadcastAxis(g[0]!, savedScale, BinaryOp.Mul)]));
        return y;
    }

    /// <summary>A view of <paramref name="x"/> with another shape; the gradient is viewed back.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var y = x.Reshape(shape);
        if (Tape.Current is not { } tape) return y;
        var inputShape = x.Shape.ToArray();
        tape.Add(new TapeNode("reshape", [x], [y]).WithBackward((g, _) => [g[0]!.Reshape(inputShape)]));
        return y;
    }
}
