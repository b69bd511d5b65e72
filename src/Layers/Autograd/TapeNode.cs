using NativeSeg.Engine.Tensors;

namespace NativeSeg.Layers.Autograd;

/// <summary>
/// One recorded op: which tensors went in (by identity, not owned), which came out, and a backward that maps the
/// outputs' gradients to the inputs' (null where an input needs none or an output got none). Tensors the backward
/// reads are saved through <see cref="Save"/>, which takes a handle of the node's own.
/// </summary>
public sealed class TapeNode : IDisposable
{
    private readonly List<Tensor> _saved = [];
    private Func<Tensor?[], bool[], Tensor?[]>? _backward;

    public TapeNode(string op, IReadOnlyList<Tensor?> inputs, IReadOnlyList<Tensor> outputs)
    {
        Op = op;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>The op's name, for error messages.</summary>
    public string Op { get; }

    public IReadOnlyList<Tensor?> Inputs { get; }

    public IReadOnlyList<Tensor> Outputs { get; }

    /// <summary>Per input, whether the tape wants its gradient (set when recorded).</summary>
    public bool[] NeedsGrad { get; internal set; } = [];

    /// <summary>Keeps <paramref name="t"/> alive for the backward, whatever the forward code does with its own handle.</summary>
    public Tensor Save(Tensor t)
    {
        var handle = TensorScope.Release(t.Share());
        _saved.Add(handle);
        return handle;
    }

    /// <summary>
    /// Sets the backward: given the outputs' gradients (null for an output that got none) and which inputs need one,
    /// returns one gradient per input (null where not needed). Runs inside a tensor scope; what it returns is kept.
    /// </summary>
    public TapeNode WithBackward(Func<Tensor?[], bool[], Tensor?[]> backward)
    {
        _backward = backward;
        return this;
    }

    internal Tensor?[] Backward(Tensor?[] outputGrads)
    {
        if (_backward is null) throw new InvalidOperationException($"tape: {Op} was recorded without a backward");
        var grads = _backward(outputGrads, NeedsGrad);
        if (grads.Length != Inputs.Count)
            throw new InvalidOperationException($"tape: {Op}'s backward returned {grads.Length} gradients for {Inputs.Count} inputs");
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is { } g && Inputs[i] is { } x && g.Shape != x.Shape)
                throw new InvalidOperationException($"tape: {Op}'s gradient {i} is {g.Shape}, its input {x.Shape}");
        }
        return grads;
    }

    public void Dispose()
    {
        foreach (var t in _saved) t.Dispose();
        _saved.Clear();
        _backward = null;
    }
}
