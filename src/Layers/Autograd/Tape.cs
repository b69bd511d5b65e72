using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers.Modules;

namespace NativeSeg.Layers.Autograd;

/// <summary>
/// Reverse-mode differentiation by recording: while a tape is recording on a thread, every differentiable op in
/// <see cref="Functional"/> whose inputs need a gradient appends a <see cref="TapeNode"/> with what its backward
/// needs; <see cref="Backward"/> replays the nodes newest first, accumulating input gradients and handing each
/// trainable parameter its gradient. See DESIGN.md in this folder for why a tape rather than per-module backward.
/// </summary>
/// <remarks>
/// The tape holds its own handles (<see cref="Tensor.Share"/>) on the activations its nodes saved, so forward code
/// keeps its scopes and early disposals: memory a node needs stays alive until the tape is disposed. Tensors are
/// identified by reference, so an op's output must be used as returned (a reshape is an op of its own).
/// </remarks>
public sealed class Tape : IDisposable
{
    [ThreadStatic] private static Tape? t_current;

    private readonly Tape? _previous;
    private readonly List<TapeNode> _nodes = [];
    private readonly HashSet<Tensor> _tracked = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, Parameter> _parameters = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    private Tape(IEnumerable<Parameter> trainable)
    {
        _previous = t_current;
        foreach (var p in trainable) _parameters[p.Value] = p;
        t_current = this;
    }

    /// <summary>The tape recording on this thread, if any.</summary>
    public static Tape? Current => t_current;

    /// <summary>Starts recording on this thread; gradients flow to <paramref name="trainable"/> (e.g. a module's <see cref="Module.TrainableParameters"/>).</summary>
    public static Tape Record(IEnumerable<Parameter> trainable) => new(trainable);

    /// <summary>Recorded nodes, for tests and diagnostics.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Whether a gradient must flow into <paramref name="t"/>: a trainable parameter or the output of a recorded node.</summary>
    public bool RequiresGrad(Tensor? t) => t is not null && (_tracked.Contains(t) || _parameters.ContainsKey(t));

    /// <summary>Records <paramref name="node"/> when any of its inputs needs a gradient; otherwise disposes it (nothing to differentiate).</summary>
    public void Add(TapeNode node)
    {
        if (!node.Inputs.Any(RequiresGrad))
        {
            node.Dispose();
            return;
        }
        node.NeedsGrad = [.. node.Inputs.Select(RequiresGrad)];
        _nodes.Add(node);
        foreach (var output in node.Outputs) _tracked.Add(output);
    }

    /// <summary>
    /// Back-propagates from <paramref name="loss"/> (a one-element tensor) with d loss/d loss = 1, adding each trainable
    /// parameter's gradient to <see cref="Parameter.Grad"/>. The tape can be replayed once.
    /// </summary>
    public void Backward(Tensor loss)
    {
        if (loss.Numel != 1) throw new ArgumentException($"backward: the loss must be a single value, got {loss.Shape}");
        using var seed = Tensor.FromArray([1f], loss.Shape.ToArray());
        Backward([(loss, seed.To(loss.Device))]);
    }

    /// <summary>Back-propagates the given output gradients (taken over; e.g. several losses' seeds at once).</summary>
    public void Backward(IReadOnlyList<(Tensor Output, Tensor Gradient)> seeds)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        try
        {
            foreach (var (output, gradient) in seeds) Accumulate(grads, output, TensorScope.Release(gradient));
            for (int i = _nodes.Count - 1; i >= 0; i--)
            {
                var node = _nodes[i];
                var outputGrads = node.Outputs.Select(o => grads.Remove(o, out var g) ? g : null).ToArray();
                if (outputGrads.All(g => g is null)) continue;
                Tensor?[] inputGrads;
                using (var scope = TensorScope.Begin())
                {
                    inputGrads = node.Backward(outputGrads);
                    foreach (var g in inputGrads) if (g is not null) TensorScope.Release(g);
                }
                foreach (var g in outputGrads) g?.Dispose();
                for (int k = 0; k < node.Inputs.Count; k++)
                {
                    if (inputGrads[k] is not { } g) continue;
                    if (node.NeedsGrad[k]) Accumulate(grads, node.Inputs[k]!, g);
                    else g.Dispose();
                }
                node.Dispose();
            }
            _nodes.Clear();
        }
        finally
        {
            foreach (var g in grads.Values) g.Dispose();
        }
    }

    private void Accumulate(Dictionary<Tensor, Tensor> grads, Tensor input, Tensor gradient)
    {
        if (_parameters.TryGetValue(input, out var parameter))
        {
            parameter.AccumulateGrad(gradient);
            return;
        }
        if (!grads.TryGetValue(input, out var existing))
        {
            grads[input] = gradient;
            return;
        }
        grads[input] = TensorScope.Release(Arithmetic.Add(existing, gradient));
        existing.Dispose();
        gradient.Dispose();
    }

    /// <summary>Stops recording and frees every activation the nodes saved.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (ReferenceEquals(t_current, this)) t_current = _previous;
        foreach (var node in _nodes) node.Dispose();
        _nodes.Clear();
    }
}
