using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// The ResNet body of a detection backbone: stem (7×7/2 conv + FrozenBN + ReLU, 3×3/2 max-pool) and stages
/// res2..res5 of bottleneck (256·2^i output channels) or basic blocks (64·2^i). Returns every stage's output,
/// as FPN consumes them all.
/// </summary>
public sealed class ResNet : IDisposable
{
    private const int StemChannels = 64;

    private readonly Conv2dLayer _stem;
    private readonly ResidualBlock[][] _stages;

    private ResNet(Conv2dLayer stem, ResidualBlock[][] stages)
    {
        _stem = stem;
        _stages = stages;
    }

    public static ResNet Load(ParameterStore store, BackboneConfig config)
    {
        var names = BackboneNames.For(config);
        var blocks = config.StageBlocks;
        var loaded = new List<ResidualBlock>();
        var stem = Conv2dLayer.Load(store, names.StemConv, null, new ConvSpec(3, StemChannels, 7, 2, 3, Relu: true),
            new FrozenNorm(names.StemNorm, config.NormEps));
        try
        {
            var stages = new ResidualBlock[4][];
            int inChannels = StemChannels;
            for (int i = 0; i < 4; i++)
            {
                int stage = i + 2, outChannels = config.StageChannels[i], first = loaded.Count;
                for (int b = 0; b < blocks[i]; b++)
                {
                    int blockIn = b == 0 ? inChannels : outChannels, stride = b == 0 && stage > 2 ? 2 : 1;
                    loaded.Add(config.BasicBlocks
                        ? BasicBlock.Load(store, config, names, stage, b, blockIn, outChannels, stride)
                        : Bottleneck.Load(store, config, names, stage, b, blockIn, outChannels / 4, outChannels, stride));
                }
                stages[i] = loaded[first..].ToArray();
                inChannels = outChannels;
            }
            return new ResNet(stem, stages);
        }
        catch
        {
            stem.Dispose();
            foreach (var block in loaded) block.Dispose();
            throw;
        }
    }

    /// <summary>res2..res5 for an NCHW float32 batch; the caller disposes them.</summary>
    public Tensor[] Forward(Tensor images)
    {
        var outputs = new List<Tensor>(4);
        try
        {
            Tensor x;
            using (var stem = _stem.Forward(images))
            {
                x = MaxPool.Forward2d(stem, 3, 2, 1);
            }
            foreach (var stage in _stages)
            {
                foreach (var block in stage)
                {
                    var next = block.Forward(x);
                    // Each stage's last output is kept for the FPN; everything else is freed at once.
                    if (outputs.Count == 0 || !ReferenceEquals(outputs[^1], x)) x.Dispose();
                    x = next;
                }
                outputs.Add(x);
            }
            return [.. outputs];
        }
        catch
        {
            foreach (var t in outputs) t.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _stem.Dispose();
        foreach (var block in _stages.SelectMany(s => s)) block.Dispose();
    }
}
