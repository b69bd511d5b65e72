using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.BlendMask;

/// <summary>
/// BlendMask's bottom module (AdelaiDet's ProtoNet, specs/blendmask.md §3): a refine block per input level
/// (conv 3×3 → BatchNorm → ReLU) resized bilinearly to P3's size and summed, then a tower of such blocks, a ×2
/// bilinear upsampling, one more block and a 1×1 conv to the bases [N, K, H/4, W/4], without activation.
/// </summary>
/// <remarks>
/// Keys follow the nn.Sequential indices: <c>refine.i.0</c> conv and <c>refine.i.1</c> BatchNorm, then
/// <c>tower.0..n−1</c> blocks, <c>tower.n</c> the upsampling (no weights), <c>tower.n+1</c> a block and
/// <c>tower.n+2</c> the 1×1 conv. The SyncBatchNorm of the released models acts as a plain BatchNorm with running
/// statistics at test time; compiling folds it into the convs.
/// </remarks>
public sealed class BasisModule : Module
{
    private const string Prefix = "basis_module.";
    private const double NormEps = 1e-5;

    private readonly Conv2dLayer[] _refine;
    private readonly Conv2dLayer[] _tower;
    private readonly Conv2dLayer _afterUpsampling;
    private readonly Conv2dLayer _bases;

    /// <param name="inputLevels">Pyramid levels read (P3, P4, P5: 3).</param>
    /// <param name="towerConvs">Blocks before the upsampling (NUM_CONVS: 3, or 2 in the 550 configs).</param>
    public BasisModule(ParameterStore store, int inChannels, int inputLevels, int towerConvs, int width = 128, int bases = 4)
    {
        _refine = [.. Enumerable.Range(0, inputLevels).Select(i => Block(store, $"{Prefix}refine.{i}", inChannels, width))];
        _tower = [.. Enumerable.Range(0, towerConvs).Select(i => Block(store, $"{Prefix}tower.{i}", width, width))];
        _afterUpsampling = Block(store, $"{Prefix}tower.{towerConvs + 1}", width, width);
        _bases = Child(new Conv2dLayer(store, $"{Prefix}tower.{towerConvs + 2}", new ConvSpec(width, bases, 1, Bias: true)));
    }

    /// <summary>The bases [N, K, 2·H3, 2·W3] from the pyramid (P3 first; only the first levels are read), which stays the caller's.</summary>
    public Tensor Forward(IReadOnlyList<Tensor> pyramid)
    {
        using var scope = TensorScope.Begin();
        var x = _refine[0].Forward(pyramid[0]);
        int h = x.Shape[2], w = x.Shape[3];
        for (int i = 1; i < _refine.Length; i++)
            x = Arithmetic.Add(x, Resize.Bilinear(_refine[i].Forward(pyramid[i]), h, w, alignCorners: false));
        foreach (var block in _tower) x = block.Forward(x);
        x = _afterUpsampling.Forward(Resize.Bilinear(x, 2 * h, 2 * w, alignCorners: false));
        return scope.Keep(_bases.Forward(x));
    }

    /// <summary>conv_with_kaiming_uniform's block: a bias-free 3×3 conv (<c>prefix.0</c>), BatchNorm (<c>prefix.1</c>), ReLU.</summary>
    private Conv2dLayer Block(ParameterStore store, string prefix, int inChannels, int outChannels) =>
        Child(new Conv2dLayer(store, prefix + ".0.weight", null, ConvSpec.Same(inChannels, outChannels, 3, relu: true),
            new BatchNormSpec(prefix + ".1", NormEps)));
}
