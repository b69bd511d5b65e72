using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// mmseg 0.7's HRNet as BPR's HRNetRefine extends it, under <c>prefix</c>: the masked stem (<see cref="HrNetMaskedStem"/>)
/// to 1/2, <c>conv2</c> + <c>bn2</c> + ReLU to 1/4, <c>layer1</c> bottlenecks, then for stages 2–4 a transition
/// (<c>transitionS.i</c>: a 3×3 conv + BN + ReLU where an existing branch changes width, a chain of stride-2 ones from
/// the last branch for a new branch) and the stage's HR modules. Returns every branch of the last stage
/// (1/4 … 1/32 of the input).
/// </summary>
public sealed class HrNet : Module
{
    private const double NormEps = 1e-5;
    private const int StemChannels = 64;
    private const int Layer1Planes = 64;
    private const int Layer1Channels = 256;

    private readonly HrNetMaskedStem _stem;
    private readonly Conv2dLayer _conv2;
    private readonly ResidualBlock[] _layer1;
    private readonly Conv2dLayer[]?[][] _transitions;
    private readonly HrModule[][] _stages;
    private readonly bool _trainableNorm;

    /// <param name="trainableNorm">Trainable BatchNorms (<see cref="BatchNorm2d"/>) everywhere, for training from scratch.</param>
    public HrNet(ParameterStore store, HrNetConfig config, string prefix, bool trainableNorm = false)
    {
        _trainableNorm = trainableNorm;
        _stem = Child(new HrNetMaskedStem(store, prefix, NormEps, trainableNorm));
        _conv2 = Child(new Conv2dLayer(store, prefix + "conv2.weight", null, new ConvSpec(StemChannels, StemChannels, 3, 2, 1, Relu: true),
            new BatchNormSpec(prefix + "bn2", NormEps, trainableNorm)));
        _layer1 = new ResidualBlock[config.Bottlenecks];
        for (int b = 0; b < config.Bottlenecks; b++)
        {
            int inChannels = b == 0 ? StemChannels : Layer1Channels;
            _layer1[b] = Child(new ResidualBlock(store, $"{prefix}layer1.{b}", NormEps, inChannels, Layer1Channels, 1,
                Bottleneck.Chain(inChannels, Layer1Planes, Layer1Channels), trainableNorm));
        }
        int[] previous = [Layer1Channels];
        _transitions = new Conv2dLayer[]?[config.Stages.Length][];
        _stages = new HrModule[config.Stages.Length][];
        for (int s = 0; s < config.Stages.Length; s++)
        {
            var stage = config.Stages[s];
            _transitions[s] = Transition(store, $"{prefix}transition{s + 1}", previous, stage.Widths);
            _stages[s] = new HrModule[stage.Modules];
            for (int m = 0; m < stage.Modules; m++)
                _stages[s][m] = Child(new HrModule(store, $"{prefix}stage{s + 2}.{m}", stage.Blocks, stage.Widths, trainableNorm));
            previous = stage.Widths;
        }
    }

    /// <summary>Stage count after layer1 (3: stages 2–4).</summary>
    public int StageCount => _stages.Length;

    /// <summary>The last stage's branches for an [N, 4, H, W] input, owned by the caller's scope (or the caller).</summary>
    public Tensor[] Forward(Tensor x)
    {
        using var scope = TensorScope.Begin();
        Tensor[] branches = [Layer1(Stem(x))];
        for (int s = 0; s < _stages.Length; s++) branches = Stage(s, branches);
        return [.. branches.Select(scope.Keep)];
    }

    /// <summary>Masked stem, then conv2 + bn2 + ReLU: 1/4 of the input, 64 channels.</summary>
    public Tensor Stem(Tensor x)
    {
        using var scope = TensorScope.Begin();
        return scope.Keep(_conv2.Forward(_stem.Forward(x)));
    }

    /// <summary>The stage-1 bottlenecks: 256 channels.</summary>
    public Tensor Layer1(Tensor x)
    {
        using var scope = TensorScope.Begin();
        foreach (var block in _layer1) x = block.Forward(x);
        return scope.Keep(x);
    }

    /// <summary>Stage <paramref name="s"/> + 2 (transition, then its HR modules) over the previous stage's branches.</summary>
    public Tensor[] Stage(int s, IReadOnlyList<Tensor> previous)
    {
        using var scope = TensorScope.Begin();
        var transition = _transitions[s];
        var branches = new Tensor[transition.Length];
        for (int i = 0; i < transition.Length; i++)
        {
            // A new branch grows from the last existing one, as mmseg's forward does.
            var input = i < previous.Count ? previous[i] : previous[^1];
            if (transition[i] is { } chain)
                foreach (var conv in chain) input = conv.Forward(input);
            branches[i] = input;
        }
        foreach (var module in _stages[s]) branches = module.Forward(branches);
        return [.. branches.Select(scope.Keep)];
    }

    private Conv2dLayer[]?[] Transition(ParameterStore store, string prefix, int[] previous, int[] widths)
    {
        var layers = new Conv2dLayer[]?[widths.Length];
        for (int i = 0; i < widths.Length; i++)
        {
            if (i < previous.Length)
            {
                if (previous[i] != widths[i])
                {
                    layers[i] = [Child(new Conv2dLayer(store, $"{prefix}.{i}.0.weight", null, new ConvSpec(previous[i], widths[i], 3, 1, 1, Relu: true),
                        new BatchNormSpec($"{prefix}.{i}.1", NormEps, _trainableNorm)))];
                }
                continue;
            }
            int steps = i + 1 - previous.Length;
            layers[i] = new Conv2dLayer[steps];
            for (int k = 0; k < steps; k++)
            {
                int outChannels = k == steps - 1 ? widths[i] : previous[^1];
                layers[i]![k] = Child(new Conv2dLayer(store, $"{prefix}.{i}.{k}.0.weight", null, new ConvSpec(previous[^1], outChannels, 3, 2, 1, Relu: true),
                    new BatchNormSpec($"{prefix}.{i}.{k}.1", NormEps, _trainableNorm)));
            }
        }
        return layers;
    }
}
