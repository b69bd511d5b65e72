using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// BCNet's build_retinanet_resnet_fpn_backbone (specs/bcnet.md §2.2, §5): the ResNet, an FPN over res3..res5 only
/// (fpn_lateral3..5, fpn_output3..5) and the P6/P7 top block on P5. Images in, P3..P7 out.
/// </summary>
public sealed class FcosBackbone : IDisposable
{
    private const int FirstLevel = 3;

    private readonly ResNet _body;
    private readonly FpnNeck _fpn;
    private readonly FcosTopBlock _top;

    private FcosBackbone(ResNet body, FpnNeck fpn, FcosTopBlock top)
    {
        _body = body;
        _fpn = fpn;
        _top = top;
    }

    public static FcosBackbone Load(ParameterStore store, BackboneConfig config)
    {
        var body = ResNet.Load(store, config);
        FpnNeck? fpn = null;
        try
        {
            fpn = FpnNeck.Load(store, config, config.StageChannels.Skip(FirstLevel - 2).ToList(), FirstLevel);
            return new FcosBackbone(body, fpn, new FcosTopBlock(store, config.FpnChannels, config.Prefix + "top_block."));
        }
        catch
        {
            fpn?.Dispose();
            body.Dispose();
            throw;
        }
    }

    /// <summary>P3..P7 (strides 8..128) for an NCHW float32 batch of normalised images padded to a multiple of 32; the caller owns them.</summary>
    public Tensor[] Forward(Tensor images)
    {
        var stages = _body.Forward(images);
        Tensor[] levels;
        try
        {
            // res2 feeds nothing here: BCNet's FPN starts at res3.
            levels = _fpn.ForwardLevels(stages[(FirstLevel - 2)..]);
        }
        finally
        {
            foreach (var s in stages) s.Dispose();
        }
        try
        {
            var (p6, p7) = _top.Forward(levels[^1]);
            return [.. levels, p6, p7];
        }
        catch
        {
            foreach (var l in levels) l.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _body.Dispose();
        _fpn.Dispose();
        _top.Dispose();
    }
}
