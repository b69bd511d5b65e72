using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.Normalization;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Kernels.Resampling;

namespace NativeSeg.Layers.Autograd;

public static partial class Functional
{
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride, int padding = 0)
    {
        var y = MaxPool.Forward2d(x, kernel, stride, padding);
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("max_pool2d", [x], [y]);
        var savedX = node.Save(x);
        tape.Add(node.WithBackward((g, _) => [MaxPool.Backward2d(g[0]!, savedX, kernel, stride, padding)]));
        return y;
    }

    /// <summary>Nearest upsampling to a given size (the FPN's top-down path).</summary>
    public static Tensor ResizeNearest(Tensor x, int outH, int outW)
    {
        var y = Resize.Nearest(x, outH, outW);
        if (Tape.Current is not { } tape) return y;
        int inH = x.Shape[2], inW = x.Shape[3];
        tape.Add(new TapeNode("resize_nearest", [x], [y]).WithBackward((g, _) => [Resize.NearestBackward(g[0]!, inH, inW)]));
        return y;
    }

    /// <summary>Bilinear resize to a given size (HRNet's fuse upsampling, BPR's resize_concat and its logits upsampling).</summary>
    public static Tensor ResizeBilinear(Tensor x, int outH, int outW, bool alignCorners)
    {
        var y = Resize.Bilinear(x, outH, outW, alignCorners);
        if (Tape.Current is not { } tape) return y;
        int inH = x.Shape[2], inW = x.Shape[3];
        tape.Add(new TapeNode("resize_bilinear", [x], [y]).WithBackward((g, _) => [Resize.BilinearBackward(g[0]!, inH, inW, alignCorners)]));
        return y;
    }

    /// <summary>GroupNorm with affine parameters and optional fused ReLU.</summary>
    public static Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool relu)
    {
        var y = NativeSeg.Kernels.Normalization.GroupNorm.Forward(x, groups, gamma, beta, eps, relu);
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("group_norm", [x, gamma, beta], [y]);
        var savedX = node.Save(x);
        var savedGamma = node.Save(gamma);
        var savedY = relu ? node.Save(y) : null;
        tape.Add(node.WithBackward((g, need) =>
        {
            var dy = savedY is null ? g[0]! : Activation.ReluBackward(g[0]!, savedY);
            var (dx, dGamma, dBeta) = NativeSeg.Kernels.Normalization.GroupNorm.Backward(dy, savedX, groups, savedGamma, eps);
            return [need[0] ? dx : null, need[1] ? dGamma : null, need[2] ? dBeta : null];
        }));
        return y;
    }

    /// <summary>
    /// Training-mode BatchNorm: normalises with the batch's statistics and moves <paramref name="runningMean"/> and
    /// <paramref name="runningVar"/> (constants of the op, updated in place) towards them.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps)
    {
        using var scope = TensorScope.Begin();
        var (y, stats) = NativeSeg.Kernels.Normalization.BatchNorm.TrainingForward(x, gamma, beta, runningMean, runningVar, momentum, eps);
        scope.Keep(y);
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode("batch_norm", [x, gamma, beta], [y]);
        var savedX = node.Save(x);
        var savedGamma = node.Save(gamma);
        var savedStats = node.Save(stats);
        tape.Add(node.WithBackward((g, need) =>
        {
            var (dx, dGamma, dBeta) = NativeSeg.Kernels.Normalization.BatchNorm.Backward(g[0]!, savedX, savedGamma, savedStats);
            return [need[0] ? dx : null, need[1] ? dGamma : null, need[2] ? dBeta : null];
        }));
        return y;
    }
}
