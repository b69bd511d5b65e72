using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// The backbone of FCOS detectors (BCNet's build_retinanet_resnet_fpn_backbone, AdelaiDet's
/// build_fcos_resnet_fpn_backbone; specs/bcnet.md §2.2, specs/blendmask.md §2.4): the ResNet (deformable blocks
/// as its config says), an FPN over res3..res5 only (fpn_lateral3..5, fpn_output3..5) and the top block on P5.
/// Images in, P3..P7 (or P3..P6) out.
/// </summary>
public sealed class FcosBackbone : Module
{
    private const int FirstLevel = 3;

    private readonly ResNet _body;
    private readonly FpnNeck _fpn;
    private readonly FcosTopBlock _top;

    /// <param name="topLevels">Levels above P5: 2 (P6, P7) or 1 (P6).</param>
    public FcosBackbone(ParameterStore store, BackboneConfig config, int topLevels = 2)
    {
        _body = Child(new ResNet(store, config));
        _fpn = Child(new FpnNeck(store, config, config.StageChannels.Skip(FirstLevel - 2).ToList(), FirstLevel));
        _top = Child(new FcosTopBlock(store, config.FpnChannels, topLevels, config.Prefix + "top_block."));
    }

    public static FcosBackbone Load(ParameterStore store, BackboneConfig config, int topLevels = 2) => Build(() => new FcosBackbone(store, config, topLevels));

    /// <summary>P3 and up (strides 8, 16, …) for an NCHW float32 batch of normalised images padded to a multiple of 32; the caller owns them.</summary>
    public Tensor[] Forward(Tensor images)
    {
        using var scope = TensorScope.Begin();
        // res2 feeds nothing here: the FPN starts at res3.
        var levels = _fpn.ForwardLevels(_body.Forward(images)[(FirstLevel - 2)..]);
        return [.. levels.Concat(_top.Forward(levels[^1])).Select(scope.Keep)];
    }
}
