using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// Feature Pyramid Network over res2..res5 ("sum" fusion, no norm, no activation): 1×1 laterals, a top-down path
/// of nearest upsampling, 3×3 output convs, and P6 as a stride-2 subsample of P5 (LastLevelMaxPool, kernel 1).
/// </summary>
public sealed class FpnNeck : IDisposable
{
    private readonly Conv2dLayer[] _laterals;
    private readonly Conv2dLayer[] _outputs;

    private FpnNeck(Conv2dLayer[] laterals, Conv2dLayer[] outputs)
    {
        _laterals = laterals;
        _outputs = outputs;
    }

    /// <param name="firstLevel">
    /// The level of <paramref name="inChannels"/>[0]: 2 for Mask R-CNN's res2..res5, 3 for the RetinaNet/FCOS FPN over
    /// res3..res5 (detectron2 names its convs by level, so fpn_lateral3 is the first).
    /// </param>
    public static FpnNeck Load(ParameterStore store, BackboneConfig config, IReadOnlyList<int> inChannels, int firstLevel = FeaturePyramid.MinLevel)
    {
        var names = BackboneNames.For(config);
        int c = config.FpnChannels;
        var loaded = new List<Conv2dLayer>(2 * inChannels.Count);
        try
        {
            for (int i = 0; i < inChannels.Count; i++)
                loaded.Add(Conv2dLayer.Load(store, names.FpnLateral(i + firstLevel), new ConvSpec(inChannels[i], c, 1, Bias: true)));
            for (int i = 0; i < inChannels.Count; i++)
                loaded.Add(Conv2dLayer.Load(store, names.FpnOutput(i + firstLevel), ConvSpec.Same(c, c, 3, bias: true)));
        }
        catch
        {
            foreach (var layer in loaded) layer.Dispose();
            throw;
        }
        return new FpnNeck([.. loaded.Take(inChannels.Count)], [.. loaded.Skip(inChannels.Count)]);
    }

    /// <summary>P2..P6 from res2..res5 (which stay the caller's).</summary>
    public FeaturePyramid Forward(IReadOnlyList<Tensor> features)
    {
        var maps = new Tensor[_laterals.Length + 1];
        try
        {
            Outputs(features, maps);
            maps[^1] = MaxPool.Forward2d(maps[^2], 1, 2);
            return new FeaturePyramid(maps);
        }
        catch
        {
            foreach (var map in maps) map?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One output per input level and no extra pooled level, for detectors that build the levels above
    /// (FCOS's P6/P7 top block) themselves. The inputs stay the caller's.
    /// </summary>
    public Tensor[] ForwardLevels(IReadOnlyList<Tensor> features)
    {
        var maps = new Tensor[_laterals.Length];
        try
        {
            Outputs(features, maps);
            return maps;
        }
        catch
        {
            foreach (var map in maps) map?.Dispose();
            throw;
        }
    }

    /// <summary>Fills maps[0..levels) with the output convs of the top-down path; on failure the caller disposes what is there.</summary>
    private void Outputs(IReadOnlyList<Tensor> features, Tensor[] maps)
    {
        if (features.Count != _laterals.Length)
            throw new ArgumentException($"fpn: {features.Count} feature maps for {_laterals.Length} levels");
        Tensor? topDown = null;
        try
        {
            for (int i = _laterals.Length - 1; i >= 0; i--)
            {
                var lateral = _laterals[i].Forward(features[i]);
                if (topDown is not null)
                {
                    // Upsampling to the lateral's size is torchvision's rule; on inputs padded to a multiple of 32
                    // it is exactly detectron2's scale_factor 2, and it also accepts unpadded inputs.
                    using var upsampled = Resize.Nearest(topDown, lateral.Shape[2], lateral.Shape[3]);
                    using (lateral)
                    {
                        topDown.Dispose();
                        topDown = Arithmetic.Add(lateral, upsampled);
                    }
                }
                else
                {
                    topDown = lateral;
                }
                maps[i] = _outputs[i].Forward(topDown);
            }
        }
        finally
        {
            topDown?.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var layer in _laterals) layer.Dispose();
        foreach (var layer in _outputs) layer.Dispose();
    }
}
