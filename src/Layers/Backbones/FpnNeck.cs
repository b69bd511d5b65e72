using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// Feature Pyramid Network over res2..res5 ("sum" fusion, no norm, no activation): 1×1 laterals, a top-down path
/// of nearest upsampling, 3×3 output convs, and P6 as a stride-2 subsample of P5 (LastLevelMaxPool, kernel 1).
/// </summary>
public sealed class FpnNeck : Module
{
    private readonly Conv2dLayer[] _laterals;
    private readonly Conv2dLayer[] _outputs;

    /// <param name="firstLevel">
    /// The level of <paramref name="inChannels"/>[0]: 2 for Mask R-CNN's res2..res5, 3 for the RetinaNet/FCOS FPN over
    /// res3..res5 (detectron2 names its convs by level, so fpn_lateral3 is the first).
    /// </param>
    public FpnNeck(ParameterStore store, BackboneConfig config, IReadOnlyList<int> inChannels, int firstLevel = FeaturePyramid.MinLevel)
    {
        var names = BackboneNames.For(config);
        int c = config.FpnChannels;
        _laterals = [.. inChannels.Select((channels, i) => Child(new Conv2dLayer(store, names.FpnLateral(i + firstLevel), new ConvSpec(channels, c, 1, Bias: true))))];
        _outputs = [.. inChannels.Select((_, i) => Child(new Conv2dLayer(store, names.FpnOutput(i + firstLevel), ConvSpec.Same(c, c, 3, bias: true))))];
    }

    /// <summary>P2..P6 from res2..res5 (which stay the caller's).</summary>
    public FeaturePyramid Forward(IReadOnlyList<Tensor> features)
    {
        using var scope = TensorScope.Begin();
        var maps = Outputs(features);
        var pyramid = new FeaturePyramid([.. maps, Functional.MaxPool2d(maps[^1], 1, 2)]);
        foreach (var map in pyramid.Maps) scope.Keep(map);
        return pyramid;
    }

    /// <summary>
    /// One output per input level and no extra pooled level, for detectors that build the levels above
    /// (FCOS's P6/P7 top block) themselves. The inputs stay the caller's.
    /// </summary>
    public Tensor[] ForwardLevels(IReadOnlyList<Tensor> features)
    {
        using var scope = TensorScope.Begin();
        return [.. Outputs(features).Select(scope.Keep)];
    }

    /// <summary>The output convs of the top-down path, one per level, owned by the current scope.</summary>
    private Tensor[] Outputs(IReadOnlyList<Tensor> features)
    {
        if (features.Count != _laterals.Length)
            throw new ArgumentException($"fpn: {features.Count} feature maps for {_laterals.Length} levels");
        var maps = new Tensor[_laterals.Length];
        Tensor? topDown = null;
        for (int i = _laterals.Length - 1; i >= 0; i--)
        {
            // Upsampling to the lateral's size is torchvision's rule; on inputs padded to a multiple of 32
            // it is exactly detectron2's scale_factor 2, and it also accepts unpadded inputs. The lateral conv adds
            // the upsampled map as it stores.
            topDown = topDown is null
                ? _laterals[i].Forward(features[i])
                : _laterals[i].ForwardAdding(features[i], Functional.ResizeNearest(topDown, features[i].Shape[2], features[i].Shape[3]), relu: false);
            maps[i] = _outputs[i].Forward(topDown);
        }
        return maps;
    }
}
