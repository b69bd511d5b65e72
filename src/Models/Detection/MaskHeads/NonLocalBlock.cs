using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NonLocalOp = NativeSeg.Kernels.NonLocalAttention.NonLocalAttention;

namespace NativeSeg.Models.Detection.MaskHeads;

/// <summary>
/// One of the bilayer head's non-local ("GCN") blocks (specs/bcnet.md §1.4): 1×1 query/key/value/output
/// transforms without bias under <c>{query,key,value,output}_transform_bound{suffix}</c>, softmax(QᵀK/√C) over
/// keys, and the BatchNorm <c>blocker_bound{suffix}</c> (eps 1e-4) before the residual add. The fused kernel takes
/// the BatchNorm folded into the output transform: compiling folds it once, a raw block folds it per call.
/// </summary>
public sealed class NonLocalBlock : Module
{
    private readonly Parameter _query, _key, _value, _output, _gamma, _beta, _mean, _variance;
    private readonly float _scale;
    private Tensor? _foldedOutput, _foldedShift;

    public NonLocalBlock(ParameterStore store, string prefix, string suffix, int channels)
    {
        _query = AddWeight(store, $"{prefix}query_transform_bound{suffix}.weight", channels, channels, 1, 1);
        _key = AddWeight(store, $"{prefix}key_transform_bound{suffix}.weight", channels, channels, 1, 1);
        _value = AddWeight(store, $"{prefix}value_transform_bound{suffix}.weight", channels, channels, 1, 1);
        _output = AddWeight(store, $"{prefix}output_transform_bound{suffix}.weight", channels, channels, 1, 1);
        string bn = $"{prefix}blocker_bound{suffix}.";
        _gamma = AddWeight(store, bn + "weight", channels);
        _beta = AddWeight(store, bn + "bias", channels);
        _mean = AddBuffer(store, bn + "running_mean", channels);
        _variance = AddBuffer(store, bn + "running_var", channels);
        _scale = NonLocalOp.BcnetScale(channels);
    }

    /// <summary>x + BN(W_o · attention(x)) for RoI features [R, C, H, W]; upstream skips the block when there are no RoIs.</summary>
    public Tensor Forward(Tensor x)
    {
        if (_foldedOutput is not null) return NonLocalOp.Forward(x, _query.Value, _key.Value, _value.Value, _foldedOutput, _foldedShift!, _scale);
        using var scope = TensorScope.Begin();
        var (output, shift) = Fold();
        return scope.Keep(NonLocalOp.Forward(x, _query.Value, _key.Value, _value.Value, output, shift, _scale));
    }

    protected override void Compile()
    {
        var (output, shift) = Fold();
        (_foldedOutput, _foldedShift) = (TensorScope.Release(output), TensorScope.Release(shift));
        _output.Frozen = _gamma.Frozen = _beta.Frozen = true;
    }

    /// <summary>The folded output transform and shift on the block's device; the fold itself reads host copies of the weights.</summary>
    private (Tensor Output, Tensor Shift) Fold()
    {
        var device = _output.Value.Device;
        using var scope = TensorScope.Begin();
        var (output, shift) = NonLocalOp.FoldBatchNorm(_output.Value.To(Device.Cpu), _gamma.Value.To(Device.Cpu), _beta.Value.To(Device.Cpu),
            _mean.Value.To(Device.Cpu), _variance.Value.To(Device.Cpu));
        return (scope.Keep(output.To(device)), scope.Keep(shift.To(device)));
    }

    protected override void OnDispose()
    {
        _foldedOutput?.Dispose();
        _foldedShift?.Dispose();
    }
}
