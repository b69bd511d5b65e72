using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// A ResNet-FPN backbone (detectron2's build_resnet_fpn_backbone, torchvision's resnet_fpn_backbone,
/// maskrcnn-benchmark's R-50-FPN): images in, P2..P6 out.
/// </summary>
public sealed class ResNetFpn : IDisposable
{
    /// <summary>Inputs are padded to a multiple of P5's stride so every top-down upsampling is an exact ×2.</summary>
    public const int SizeDivisibility = 32;

    private readonly ResNet _body;
    private readonly FpnNeck _fpn;

    private ResNetFpn(ResNet body, FpnNeck fpn, BackboneConfig config)
    {
        _body = body;
        _fpn = fpn;
        Config = config;
    }

    public BackboneConfig Config { get; }

    public static ResNetFpn Load(ParameterStore store, BackboneConfig config)
    {
        var body = ResNet.Load(store, config);
        try
        {
            return new ResNetFpn(body, FpnNeck.Load(store, config, config.StageChannels), config);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>P2..P6 for an NCHW float32 batch of normalised, padded images.</summary>
    public FeaturePyramid Forward(Tensor images)
    {
        var features = _body.Forward(images);
        try
        {
            return _fpn.Forward(features);
        }
        finally
        {
            foreach (var f in features) f.Dispose();
        }
    }

    public void Dispose()
    {
        _body.Dispose();
        _fpn.Dispose();
    }
}
