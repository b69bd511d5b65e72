using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NonLocalOp = NativeSeg.Kernels.NonLocalAttention.NonLocalAttention;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// One of the bilayer head's non-local ("GCN") blocks (specs/bcnet.md §1.4): 1×1 query/key/value/output
/// transforms without bias under <c>{query,key,value,output}_transform_bound{suffix}</c>, softmax(QᵀK/√C) over
/// keys, and the BatchNorm <c>blocker_bound{suffix}</c> (eps 1e-4) before the residual add, folded at load into
/// the output transform.
/// </summary>
public sealed class NonLocalBlock : IDisposable
{
    private readonly Tensor[] _owned;
    private readonly Tensor _query, _key, _value, _output, _shift;
    private readonly float _scale;

    public NonLocalBlock(ParameterStore store, string prefix, string suffix, int channels)
    {
        var owned = new List<Tensor>(5);
        try
        {
            foreach (var t in new[] { "query", "key", "value" })
                owned.Add(store.Take($"{prefix}{t}_transform_bound{suffix}.weight", channels, channels, 1, 1));
            string bn = $"{prefix}blocker_bound{suffix}.";
            var (output, shift) = NonLocalOp.FoldBatchNorm(store.Peek($"{prefix}output_transform_bound{suffix}.weight", channels, channels, 1, 1),
                store.Peek(bn + "weight", channels), store.Peek(bn + "bias", channels),
                store.Peek(bn + "running_mean", channels), store.Peek(bn + "running_var", channels));
            owned.Add(store.Upload(output));
            owned.Add(store.Upload(shift));
        }
        catch
        {
            foreach (var t in owned) t.Dispose();
            throw;
        }
        _owned = [.. owned];
        (_query, _key, _value, _output, _shift) = (_owned[0], _owned[1], _owned[2], _owned[3], _owned[4]);
        _scale = NonLocalOp.BcnetScale(channels);
    }

    /// <summary>x + BN(W_o · attention(x)) for RoI features [R, C, H, W]; upstream skips the block when there are no RoIs.</summary>
    public Tensor Forward(Tensor x) => NonLocalOp.Forward(x, _query, _key, _value, _output, _shift, _scale);

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
    }
}
