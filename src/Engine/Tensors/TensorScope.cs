namespace NativeSeg.Engine.Tensors;

/// <summary>
/// Scoped ownership of tensors: every tensor created on this thread while a scope is open belongs to the
/// innermost scope and is disposed with it, unless <see cref="Keep"/> hands it to the enclosing scope or
/// <see cref="Release"/> gives it away for good (a model's weights). A forward pass therefore frees its
/// intermediates without a disposal chain, and an exception half-way frees them too.
/// </summary>
/// <example><code>
/// using var scope = TensorScope.Begin();
/// var h = Conv2d.Forward(x, w1);          // freed when the scope ends
/// return scope.Keep(Conv2d.Forward(h, w2)); // survives, owned by the caller's scope (or by the caller)
/// </code></example>
/// <remarks>
/// Scopes are per thread and strictly nested, like <c>using</c> blocks. Tensors created on worker threads
/// (inside a CPU kernel's parallel loop) belong to no scope and stay the creating code's to dispose.
/// Disposing a scoped tensor early is allowed and frees its memory at once.
/// </remarks>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;

    private readonly TensorScope? _parent;
    private readonly List<Tensor> _owned = [];
    private bool _closed;

    private TensorScope(TensorScope? parent) => _parent = parent;

    /// <summary>Opens a scope nested in this thread's current one.</summary>
    public static TensorScope Begin()
    {
        var scope = new TensorScope(t_current);
        t_current = scope;
        return scope;
    }

    /// <summary>Tensors the scope owns now.</summary>
    public int Count => _owned.Count;

    internal static void Adopt(Tensor tensor)
    {
        if (t_current is { } scope)
        {
            scope._owned.Add(tensor);
            tensor.Scope = scope;
        }
    }

    /// <summary>Moves <paramref name="tensor"/> to the enclosing scope, or to the caller when there is none.</summary>
    public Tensor Keep(Tensor tensor)
    {
        Detach(tensor);
        if (_parent is not null)
        {
            _parent._owned.Add(tensor);
            tensor.Scope = _parent;
        }
        return tensor;
    }

    /// <summary>Keeps both tensors of a pair (e.g. logits and deltas).</summary>
    public (Tensor, Tensor) Keep((Tensor A, Tensor B) pair) => (Keep(pair.A), Keep(pair.B));

    /// <summary>Takes <paramref name="tensor"/> out of every scope: whoever holds it now disposes it (a module's parameter).</summary>
    public static Tensor Release(Tensor tensor)
    {
        tensor.Scope?.Detach(tensor);
        return tensor;
    }

    private void Detach(Tensor tensor)
    {
        if (!ReferenceEquals(tensor.Scope, this))
            throw new InvalidOperationException($"tensor scope: {tensor} does not belong to this scope, so it cannot be kept from it");
        // Kept tensors are almost always the newest, so search from the end.
        int at = _owned.LastIndexOf(tensor);
        _owned.RemoveAt(at);
        tensor.Scope = null;
    }

    /// <summary>Disposes every tensor still owned, newest first, and makes the enclosing scope current again.</summary>
    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        if (ReferenceEquals(t_current, this)) t_current = _parent;
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Scope = null;
            _owned[i].Dispose();
        }
        _owned.Clear();
    }
}
