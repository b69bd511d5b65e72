using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// BCNet's build_retinanet_resnet_fpn_backbone (specs/bcnet.md §2.2, §5): the ResNet, an FPN over res3..res5 only
/// (fpn_lateral3..5, fpn_output3..5) and the P6/P7 top block on P5. Images in, P3..P7 out.
/// </summary>
public sealed class FcosBackbone : Module
{
    private const int FirstLevel = 3;

    private readonly ResNet _body;
    private readonly FpnNeck _fpn;
    private readonly FcosTopBlock _top;

    public FcosBackbone(ParameterStore store, BackboneConfig config)
    {
        _body = Child(new ResNet(store, config));
        _fpn = Child(new FpnNeck(store, config, config.StageChannels.Skip(FirstLevel - 2).ToList(), FirstLevel));
        _top = Child(new FcosTopBlock(store, config.FpnChannels, config.Prefix + "top_block."));
    }

    public static FcosBackbone Load(ParameterStore store, BackboneConfig config) => Build(() => new FcosBackbone(store, config));

    /// <summary>P3..P7 (strides 8..128) for an NCHW float32 batch of normalised images padded to a multiple of 32; the caller owns them.</summary>
    public Tensor[] Forward(Tensor images)
    {
        using var scope = TensorScope.Begin();
        // res2 feeds nothing here: BCNet's FPN starts at res3.
        var levels = _fpn.ForwardLevels(_body.Forward(images)[(FirstLevel - 2)..]);
        var (p6, p7) = _top.Forward(levels[^1]);
        return [.. levels.Append(p6).Append(p7).Select(scope.Keep)];
    }
}
