using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Optimizer;
using NativeSeg.Layers.Modules;

namespace NativeSeg.Layers.Optim;

/// <summary>
/// SGD with momentum and weight decay over float32 master weights, as torch.optim.SGD steps detectron2's and
/// torchvision's detectors (one weight decay for every trainable parameter: Mask R-CNN trains no norm layers).
/// Momentum buffers are keyed by parameter key, so a checkpoint can save and restore them.
/// </summary>
public sealed class SgdOptimizer : IDisposable
{
    private const string MomentumPrefix = "momentum.";

    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly Dictionary<string, Tensor> _momentum = new(StringComparer.Ordinal);

    public SgdOptimizer(IEnumerable<Parameter> parameters, float momentum, float weightDecay)
    {
        _parameters = [.. parameters];
        var duplicate = _parameters.GroupBy(p => p.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"sgd: parameter '{duplicate.Key}' is listed twice");
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    public float Momentum { get; }

    public float WeightDecay { get; }

    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The global L2 norm of every gradient (parameters without one count as zero).</summary>
    public double GradientNorm() => Math.Sqrt(_parameters.Where(p => p.Grad is not null).Sum(p => Kernels.Optimizer.GradientNorm.SumOfSquares(p.Grad!)));

    /// <summary>
    /// Scales every gradient so their global norm is at most <paramref name="maxNorm"/> (clip_grad_norm_'s rule,
    /// factor maxNorm / (norm + 1e-6)); returns the norm before clipping.
    /// </summary>
    public double ClipGradientNorm(double maxNorm)
    {
        double norm = GradientNorm();
        double factor = maxNorm / (norm + 1e-6);
        if (factor >= 1) return norm;
        foreach (var p in _parameters.Where(p => p.Grad is not null))
        {
            using var scaled = Arithmetic.Affine(p.Grad!, (float)factor, 0f);
            p.Grad!.CopyFrom(scaled);
        }
        return norm;
    }

    /// <summary>Updates every parameter that has a gradient; parameters without one (unused this step) keep value and momentum.</summary>
    public void Step(float learningRate)
    {
        foreach (var p in _parameters)
        {
            if (p.Grad is not { } grad) continue;
            Sgd.Step(p.Value, grad, MomentumOf(p), learningRate, Momentum, WeightDecay);
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    /// <summary>The momentum buffers under "momentum.KEY", for a checkpoint (not copies).</summary>
    public IReadOnlyDictionary<string, Tensor> State() => _momentum.ToDictionary(kv => MomentumPrefix + kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>Restores momentum buffers written by <see cref="State"/>; keys of other kinds are ignored.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var p in _parameters)
        {
            if (!state.TryGetValue(MomentumPrefix + p.Key, out var saved)) continue;
            if (saved.Shape != p.Shape)
                throw new ArgumentException($"sgd state: momentum of '{p.Key}' is {saved.Shape}, the parameter {p.Shape}");
            MomentumOf(p).CopyFrom(saved);
        }
    }

    private Tensor MomentumOf(Parameter p)
    {
        if (!_momentum.TryGetValue(p.Key, out var buffer))
        {
            buffer = TensorScope.Release(Tensor.Zeros(p.Shape, DType.Float32, p.Value.Device));
            _momentum[p.Key] = buffer;
        }
        return buffer;
    }

    public void Dispose()
    {
        foreach (var m in _momentum.Values) m.Dispose();
        _momentum.Clear();
    }
}
