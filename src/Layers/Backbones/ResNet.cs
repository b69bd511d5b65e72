using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// The ResNet body of a detection backbone: stem (7×7/2 conv + BatchNorm + ReLU, 3×3/2 max-pool) and stages
/// res2..res5 of bottleneck (256·2^i output channels) or basic blocks (64·2^i). Returns every stage's output,
/// as FPN consumes them all.
/// </summary>
public sealed class ResNet : Module
{
    private const int StemChannels = 64;

    private readonly Conv2dLayer _stem;
    private readonly ResidualBlock[][] _stages;

    public ResNet(ParameterStore store, BackboneConfig config)
    {
        var names = BackboneNames.For(config);
        var blocks = config.StageBlocks;
        _stem = Child(new Conv2dLayer(store, names.StemConv, null, new ConvSpec(3, StemChannels, 7, 2, 3, Relu: true),
            new BatchNormSpec(names.StemNorm, config.NormEps, config.TrainableNorm)));
        _stages = new ResidualBlock[4][];
        int inChannels = StemChannels;
        for (int i = 0; i < 4; i++)
        {
            int stage = i + 2, outChannels = config.StageChannels[i];
            _stages[i] = new ResidualBlock[blocks[i]];
            for (int b = 0; b < blocks[i]; b++)
            {
                int blockIn = b == 0 ? inChannels : outChannels, stride = b == 0 && stage > 2 ? 2 : 1;
                _stages[i][b] = Child(config.BasicBlocks
                    ? BasicBlock.Load(store, config, names, stage, b, blockIn, outChannels, stride)
                    : Bottleneck.Load(store, config, names, stage, b, blockIn, outChannels / 4, outChannels, stride));
            }
            inChannels = outChannels;
        }
    }

    /// <summary>
    /// Freezes the stem and res2..res<paramref name="lastFrozenStage"/> (1 = stem only, 0 = nothing), as detectron2's
    /// FREEZE_AT 2 and torchvision's trainable_backbone_layers 3 do by default when finetuning.
    /// </summary>
    public void FreezeThrough(int lastFrozenStage)
    {
        if (lastFrozenStage < 1) return;
        _stem.SetFrozen(true);
        for (int stage = 2; stage <= Math.Min(lastFrozenStage, 5); stage++)
            foreach (var block in _stages[stage - 2]) block.SetFrozen(true);
    }

    /// <summary>res2..res5 for an NCHW float32 batch, owned by the caller's scope (or the caller).</summary>
    public Tensor[] Forward(Tensor images)
    {
        using var scope = TensorScope.Begin();
        var outputs = new Tensor[_stages.Length];
        var x = Functional.MaxPool2d(_stem.Forward(images), 3, 2, 1);
        for (int s = 0; s < _stages.Length; s++)
        {
            foreach (var block in _stages[s])
            {
                var next = block.Forward(x);
                // Only each stage's last output feeds the FPN; the others go at once to keep inference's peak low
                // (a training tape holds its own handle on what its backward needs).
                if (s == 0 || !ReferenceEquals(outputs[s - 1], x)) x.Dispose();
                x = next;
            }
            outputs[s] = x;
        }
        return [.. outputs.Select(scope.Keep)];
    }
}
