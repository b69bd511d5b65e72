using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// Everything of BCNet's FCOS model after the FPN (specs/bcnet.md §3): P6/P7, the FCOS head and its
/// post-processing, then the bilayer mask head on the detected boxes pooled over P3–P7.
/// </summary>
public sealed class BcnetHeads : IDisposable
{
    private readonly FcosTopBlock _top;
    private readonly FcosHead _head;
    private readonly BilayerMaskHead _mask;
    private readonly FcosPostprocess _postprocess;

    public BcnetHeads(ParameterStore store, FcosConfig config)
    {
        _top = new FcosTopBlock(store, config.Channels);
        try
        {
            _head = new FcosHead(store, config);
            try
            {
                _mask = new BilayerMaskHead(store, config.Channels);
            }
            catch
            {
                _head.Dispose();
                throw;
            }
        }
        catch
        {
            _top.Dispose();
            throw;
        }
        _postprocess = new FcosPostprocess(config);
    }

    /// <summary>Detections and their occludee mask probabilities per image, from P3, P4, P5 (which stay the caller's).</summary>
    public IReadOnlyList<MaskDetections> Forward(IReadOnlyList<Tensor> p3ToP5)
    {
        var (p6, p7) = _top.Forward(p3ToP5[2]);
        using (p6)
        using (p7)
        {
            IReadOnlyList<Tensor> pyramid = [.. p3ToP5, p6, p7];
            IReadOnlyList<Detections> detections;
            var outputs = _head.Forward(pyramid);
            try
            {
                detections = _postprocess.Run(outputs);
            }
            finally
            {
                foreach (var o in outputs) o.Dispose();
            }
            return PredictMasks(pyramid, detections);
        }
    }

    /// <summary>Occludee masks for given detections; the mask scores are the box scores (BCNet does not rescore).</summary>
    public IReadOnlyList<MaskDetections> PredictMasks(IReadOnlyList<Tensor> pyramid, IReadOnlyList<Detections> detections)
    {
        const int side = BilayerMaskHead.MaskSide;
        if (detections.All(d => d.Count == 0)) return detections.Select(d => new MaskDetections(d, [], side, [])).ToList();
        using var pooled = PyramidRoiPooler.Pool(pyramid, detections.Select(d => d.AsBoxList()).ToList());
        using var probs = _mask.Forward(pooled);
        var all = probs.ToArray<float>();
        var result = new List<MaskDetections>(detections.Count);
        int start = 0;
        foreach (var d in detections)
        {
            result.Add(new MaskDetections(d, all.AsSpan(start * side * side, d.Count * side * side).ToArray(), side, d.Scores));
            start += d.Count;
        }
        return result;
    }

    public void Dispose()
    {
        _top.Dispose();
        _head.Dispose();
        _mask.Dispose();
    }
}
