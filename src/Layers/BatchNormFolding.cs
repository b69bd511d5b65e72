using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Layers;

/// <summary>
/// Folds a frozen BatchNorm into the convolution before it, once at load time, so inference runs one
/// conv with bias instead of a conv and a normalization pass:
/// w' = w·γ/√(var+eps), b' = (b − mean)·γ/√(var+eps) + β.
/// eps is the checkpoint's convention: detectron2's FrozenBatchNorm2d uses 1e-5, maskrcnn-benchmark's
/// uses 0 (its statistics were already folded into weight and bias when exported).
/// </summary>
public static class BatchNormFolding
{
    private const string Op = "batch_norm_folding";

    /// <summary>
    /// The folded weight and bias, as new CPU tensors. <paramref name="convWeight"/> has the output
    /// channel first ([K, ...], as conv2d's KCRS and linear's [out, in]); the BatchNorm tensors are [K].
    /// </summary>
    public static (Tensor Weight, Tensor Bias) Fold(Tensor convWeight, Tensor? convBias,
        Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps)
    {
        var weight = convWeight.To(Device.Cpu);
        try
        {
            return (weight, FoldInPlace(weight, convBias, gamma, beta, runningMean, runningVar, eps));
        }
        catch
        {
            weight.Dispose();
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Fold"/>, scaling the CPU weight <paramref name="convWeight"/> where it lies (a model's weights are
    /// folded at load without a second copy of them); returns the folded bias, a new CPU tensor. Every argument is
    /// checked before the weight changes.
    /// </summary>
    public static Tensor FoldInPlace(Tensor convWeight, Tensor? convBias,
        Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps)
    {
        Check.That(convWeight.Rank >= 1, Op, $"conv weight {convWeight.Shape} must have an output-channel dimension");
        Check.That(convWeight.Device.IsCpu, Op, $"conv weight {convWeight.Shape} is on {convWeight.Device}; it is folded in place on the CPU");
        int k = convWeight.Shape[0];
        foreach (var (t, name) in new[] { (gamma, "weight"), (beta, "bias"), (runningMean, "running_mean"), (runningVar, "running_var") })
        {
            Check.DType(t, DType.Float32, Op, name);
            Check.That(t.Rank == 1 && t.Shape[0] == k, Op, $"batch norm {name} {t.Shape} must be [{k}] for conv weight {convWeight.Shape}");
        }
        Check.DType(convWeight, DType.Float32, Op, "conv weight");
        if (convBias is not null)
        {
            Check.DType(convBias, DType.Float32, Op, "conv bias");
            Check.That(convBias.Rank == 1 && convBias.Shape[0] == k, Op, $"conv bias {convBias.Shape} must be [{k}] for conv weight {convWeight.Shape}");
        }
        Check.That(eps >= 0, Op, $"eps must not be negative, got {eps}");

        var (scale, shift) = ChannelAffine(gamma, beta, runningMean, runningVar, eps);
        float[] b = convBias?.ToArray<float>() ?? new float[k];
        var folded = new float[k];
        for (int i = 0; i < k; i++) folded[i] = (float)(b[i] * scale[i] + shift[i]);
        var w = convWeight.AsSpan<float>();
        int inner = k == 0 ? 0 : w.Length / k;
        for (int i = 0; i < k; i++)
        {
            var row = w.Slice(i * inner, inner);
            for (int j = 0; j < row.Length; j++) row[j] = (float)(row[j] * scale[i]);
        }
        return Tensor.FromArray(folded, k);
    }

    /// <summary>
    /// The BatchNorm as y = x·scale + shift per channel: scale = γ/√(var+eps), shift = β − mean·scale. In double:
    /// var + eps can be tiny when eps is 0, and the scale multiplies every weight.
    /// </summary>
    public static (double[] Scale, double[] Shift) ChannelAffine(Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps)
    {
        float[] g = gamma.ToArray<float>(), bt = beta.ToArray<float>(), mean = runningMean.ToArray<float>(), var = runningVar.ToArray<float>();
        var scale = new double[g.Length];
        var shift = new double[g.Length];
        for (int i = 0; i < g.Length; i++)
        {
            scale[i] = g[i] / Math.Sqrt(var[i] + eps);
            Check.That(double.IsFinite(scale[i]), Op, $"channel {i}: running_var {var[i]} + eps {eps} gives a non-finite scale");
            shift[i] = bt[i] - mean[i] * scale[i];
        }
        return (scale, shift);
    }
}
