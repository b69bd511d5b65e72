using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Bpr;

/// <summary>
/// BPR's EncoderDecoderRefine: HRNetRefine (<c>backbone.</c>) and the FCN head (<c>decode_head.</c>) over a batch of
/// patches [K, 4, S, S] (normalised RGB, then the coarse mask as −1/+1).
/// </summary>
public sealed class BprNetwork : Module
{
    /// <param name="trainableNorm">Trainable BatchNorms everywhere (training); inference folds frozen ones.</param>
    public BprNetwork(ParameterStore store, BprConfig config, bool trainableNorm = false)
    {
        Config = config;
        Backbone = Child(new HrNet(store, config.Backbone, "backbone.", trainableNorm));
        Head = Child(new FcnHead(store, "decode_head.", config.Backbone.OutputWidths.Sum(), trainableNorm));
    }

    public BprConfig Config { get; }

    public HrNet Backbone { get; }

    public FcnHead Head { get; }

    /// <summary>Loads the network from <paramref name="store"/> and compiles it for inference (BatchNorms folded).</summary>
    public static BprNetwork LoadForInference(ParameterStore store, BprConfig config)
    {
        var network = Module.Build(() => new BprNetwork(store, config));
        network.CompileForInference();
        return network;
    }

    /// <summary>The head's two-class logits at 1/4 of the input.</summary>
    public Tensor Logits(Tensor patches)
    {
        using var scope = TensorScope.Begin();
        return scope.Keep(Head.Forward(Backbone.Forward(patches)));
    }

    /// <summary>
    /// Logits at the patch size, [K, 2, patchSize, patchSize], by upstream's resize chain: bilinear to the input size
    /// (encode_decode), then bilinear to the patch's original size (whole_inference with rescale); softmax comes after.
    /// </summary>
    public Tensor PatchLogits(Tensor patches, int patchSize)
    {
        using var scope = TensorScope.Begin();
        var full = Resize.Bilinear(Logits(patches), patches.Shape[2], patches.Shape[3], alignCorners: false);
        return scope.Keep(Resize.Bilinear(full, patchSize, patchSize, alignCorners: false));
    }
}
