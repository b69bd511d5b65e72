using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;
using NativeSeg.Layers.Modules;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.MaskHeads;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// Everything of BCNet's FCOS model after the FPN (specs/bcnet.md §3): P6/P7, the FCOS head and its
/// post-processing, then the bilayer mask head on the detected boxes pooled over P3–P7.
/// </summary>
public sealed class BcnetHeads : Module
{
    private readonly FcosTopBlock _top;
    private readonly FcosHead _head;
    private readonly BilayerMaskHead _mask;
    private readonly FcosPostprocess _postprocess;

    public BcnetHeads(ParameterStore store, FcosConfig config)
    {
        _top = Child(new FcosTopBlock(store, config.Channels));
        _head = Child(new FcosHead(store, config));
        _mask = Child(new BilayerMaskHead(store, config.Channels));
        _postprocess = new FcosPostprocess(config);
    }

    /// <summary>P6/P7 from P5.</summary>
    internal FcosTopBlock Top => _top;

    internal FcosHead Head => _head;

    internal BilayerMaskHead Mask => _mask;

    /// <summary>Heads with raw parameters; nothing stays allocated if a weight is missing.</summary>
    public static BcnetHeads Load(ParameterStore store, FcosConfig config) => Build(() => new BcnetHeads(store, config));

    /// <summary>Detections and their occludee mask probabilities per image, from P3, P4, P5 (which stay the caller's).</summary>
    /// <param name="clock">Times the FCOS head and the mask head when benchmarking.</param>
    public IReadOnlyList<MaskDetections> Forward(IReadOnlyList<Tensor> p3ToP5, StageClock? clock = null) => OnDetections(p3ToP5, PredictMasks, clock);

    /// <summary>As <see cref="Forward"/>, with all four bilayer maps of every detection, image after image.</summary>
    public IReadOnlyList<(MaskDetections Detections, IReadOnlyList<OcclusionMaps> Maps)> Explain(IReadOnlyList<Tensor> p3ToP5) =>
        OnDetections(p3ToP5, ExplainMasks, null);

    /// <summary>Occludee masks for given detections; the mask scores are the box scores (BCNet does not rescore).</summary>
    public IReadOnlyList<MaskDetections> PredictMasks(IReadOnlyList<Tensor> pyramid, IReadOnlyList<Detections> detections) =>
        Masks(pyramid, detections, explain: false).Select(m => m.Masks).ToList();

    private IReadOnlyList<(MaskDetections, IReadOnlyList<OcclusionMaps>)> ExplainMasks(IReadOnlyList<Tensor> pyramid, IReadOnlyList<Detections> detections) =>
        Masks(pyramid, detections, explain: true);

    private List<(MaskDetections Masks, IReadOnlyList<OcclusionMaps> Maps)> Masks(IReadOnlyList<Tensor> pyramid, IReadOnlyList<Detections> detections, bool explain)
    {
        const int side = BilayerMaskHead.MaskSide;
        if (detections.All(d => d.Count == 0)) return MaskDetections.PerImage(detections, [], side, null, []);
        using var scope = TensorScope.Begin();
        var pooled = PyramidRoiPooler.Pool(pyramid, detections.Select(d => d.AsBoxList()).ToList(), FcosConfig.MinLevel);
        var labels = detections.SelectMany(d => d.Labels).ToList();
        if (explain)
        {
            var maps = _mask.Explain(pooled, labels);
            return MaskDetections.PerImage(detections, maps.OccludeeMask.ToArray<float>(), side, null, maps.PerRoi());
        }
        var probs = _mask.Forward(pooled, labels);
        return MaskDetections.PerImage(detections, probs.ToArray<float>(), side, null, []);
    }

    /// <summary>P6/P7, the FCOS head and its post-processing, then <paramref name="masks"/> on the pyramid and the detections.</summary>
    private T OnDetections<T>(IReadOnlyList<Tensor> p3ToP5, Func<IReadOnlyList<Tensor>, IReadOnlyList<Detections>, T> masks, StageClock? clock)
    {
        using var scope = TensorScope.Begin();
        IReadOnlyList<Tensor> pyramid = [.. p3ToP5, .. _top.Forward(p3ToP5[2])];
        var detections = _postprocess.Run(_head.Forward(pyramid));
        clock?.Lap(Stages.FcosHead);
        var result = masks(pyramid, detections);
        clock?.Lap(Stages.MaskHead);
        return result;
    }
}
