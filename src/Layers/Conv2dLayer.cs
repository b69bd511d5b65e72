using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers;

/// <summary>
/// A convolution, optionally followed by a BatchNorm (frozen, or trainable) and a ReLU (the conv-norm-act unit of ResNets and
/// heads). Built raw, so it can be trained; <see cref="Module.CompileForInference"/> folds the BatchNorm into the
/// weight and bias, after which the whole unit is one kernel call with the ReLU fused in its epilogue, and on the
/// CPU a 3×3 stride-1 weight is transformed for Winograd once, by the first call whose map is large enough for it
/// (<see cref="WinogradFilters"/>). Compiled for bf16, its weight is also packed in bf16 (<see cref="Bf16ConvWeights"/>).
/// </summary>
public sealed class Conv2dLayer : Module, IConvUnit
{
    private readonly string _biasKey;
    private BatchNormModule? _norm;
    private WinogradFilters? _winograd;
    private Bf16ConvWeights? _bf16;

    /// <summary>A conv whose weight and bias keys are given outright, optionally followed by a BatchNorm.</summary>
    public Conv2dLayer(ParameterStore store, string weightKey, string? biasKey, ConvSpec spec, BatchNormSpec? norm = null)
    {
        if (spec.InChannels % spec.Groups != 0)
            throw new ArgumentException($"conv {weightKey}: {spec.InChannels} input channels do not divide into {spec.Groups} groups");
        Spec = spec;
        Weight = AddWeight(store, weightKey, spec.OutChannels, spec.InChannels / spec.Groups, spec.Kernel, spec.Kernel);
        Bias = biasKey is null ? null : AddWeight(store, biasKey, spec.OutChannels);
        _biasKey = biasKey ?? (weightKey.EndsWith(".weight", StringComparison.Ordinal) ? weightKey[..^".weight".Length] : weightKey) + ".bias";
        _norm = norm is null ? null
            : norm.Trains ? Child<BatchNormModule>(new BatchNorm2d(store, norm, spec.OutChannels))
            : Child<BatchNormModule>(new FrozenBatchNorm2d(store, norm, spec.OutChannels));
    }

    /// <summary><c>prefix.weight</c>, and <c>prefix.bias</c> when the spec has one (detectron2's and most heads' layout).</summary>
    public Conv2dLayer(ParameterStore store, string prefix, ConvSpec spec) : this(store, prefix + ".weight", spec.Bias ? prefix + ".bias" : null, spec)
    {
    }

    public ConvSpec Spec { get; }

    public Parameter Weight { get; }

    public Parameter? Bias { get; private set; }

    /// <summary>The BatchNorm after the conv, until compiling folds it away.</summary>
    public BatchNormModule? Norm => _norm;

    public int OutChannels => Spec.OutChannels;

    public int InChannels => Spec.InChannels;

    /// <summary>The kernel's parameters without the ReLU, which is fused only when nothing comes between conv and ReLU.</summary>
    public Conv2dParams ConvParams => new() { Stride = Spec.Stride, Padding = Spec.Padding, Groups = Spec.Groups };

    public Tensor Forward(Tensor x)
    {
        if (_norm is null) return Functional.Conv2d(x, Weight.Value, Bias?.Value, ConvParams with { FuseRelu = Spec.Relu }, _winograd, _bf16);
        using var scope = TensorScope.Begin();
        var normalised = _norm.Forward(Functional.Conv2d(x, Weight.Value, Bias?.Value, ConvParams));
        return scope.Keep(Spec.Relu ? Functional.Relu(normalised) : normalised);
    }

    /// <summary>
    /// Once nothing comes between the conv and the join (the BatchNorm folded, or none, and no ReLU of the unit's own),
    /// the residual is added in the conv's epilogue instead of by a pass over the whole map.
    /// </summary>
    public Tensor ForwardAdding(Tensor x, Tensor residual, bool relu) => _norm is null && !Spec.Relu
        ? Functional.Conv2d(x, Weight.Value, Bias?.Value, ConvParams with { FuseRelu = relu }, _winograd, _bf16, residual)
        : IConvUnit.Join(Forward(x), residual, relu);

    /// <summary>
    /// Folds the BatchNorm's eval-mode transform into the weight and bias (w·scale, b·scale + shift), then sets up the
    /// final weight's Winograd transform, made on first use, where the CPU path would use one. A compiled module is not
    /// trained, so the weight stays what the transform is made from.
    /// </summary>
    protected override void Compile()
    {
        Fold();
        _winograd = WinogradFilters.TryPrepareOnFirstUse(Weight.Value, ConvParams);
    }

    /// <summary>The folded weight in float16, for the half convolution; the bias stays float, added to the widened output.</summary>
    protected override void UseHalfWeights() => Weight.ConvertTo(DType.Float16);

    /// <summary>
    /// The folded weight packed in bf16 for the CPU's bf16 implicit GEMM; the float weight stays, for the Winograd transform
    /// of the maps where fp32 Winograd runs instead, and the bias stays float, added to the float sum.
    /// </summary>
    protected override void UseBf16Weights() => _bf16 = Bf16ConvWeights.Pack(Weight.Value, Spec.Groups);

    protected override void OnDispose()
    {
        _winograd?.Dispose();
        _bf16?.Dispose();
    }

    private void Fold()
    {
        if (_norm is null) return;
        var n = _norm;
        var device = Weight.Value.Device;
        // On the CPU the weight is scaled where it lies; a device weight is folded on a host copy and sent back.
        using var hostWeight = device.IsCpu ? null : Weight.Value.To(Device.Cpu);
        using (var b = BatchNormFolding.FoldInPlace(hostWeight ?? Weight.Value, Bias?.Value, n.Gamma.Value, n.Beta.Value, n.RunningMean.Value, n.RunningVar.Value, n.Eps))
        {
            if (hostWeight is not null) Weight.Assign(hostWeight.To(device));
            if (Bias is null) Bias = Register(new Parameter(_biasKey, b.To(device)));
            else Bias.Assign(b.To(device));
        }
        _norm = null;
        RemoveChild(n);
    }
}
