using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// A ResNet-FPN backbone (detectron2's build_resnet_fpn_backbone, torchvision's resnet_fpn_backbone,
/// maskrcnn-benchmark's R-50-FPN): images in, P2..P6 out.
/// </summary>
public sealed class ResNetFpn : Module
{
    /// <summary>Inputs are padded to a multiple of P5's stride so every top-down upsampling is an exact ×2.</summary>
    public const int SizeDivisibility = 32;

    public ResNetFpn(ParameterStore store, BackboneConfig config)
    {
        Config = config;
        Body = Child(new ResNet(store, config));
        Fpn = Child(new FpnNeck(store, config, config.StageChannels));
    }

    public BackboneConfig Config { get; }

    /// <summary>The backbone with raw (trainable) parameters; nothing is left allocated if a weight is missing or misshapen.</summary>
    public static ResNetFpn Load(ParameterStore store, BackboneConfig config) => Build(() => new ResNetFpn(store, config));

    public ResNet Body { get; }

    public FpnNeck Fpn { get; }

    /// <summary>P2..P6 for an NCHW float32 batch of normalised, padded images.</summary>
    public FeaturePyramid Forward(Tensor images)
    {
        using var scope = TensorScope.Begin();
        var pyramid = Fpn.Forward(Body.Forward(images));
        foreach (var map in pyramid.Maps) scope.Keep(map);
        return pyramid;
    }
}
