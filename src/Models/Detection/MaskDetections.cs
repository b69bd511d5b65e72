using NativeSeg.Models.Inference;

namespace NativeSeg.Models.Detection;

/// <summary>One image's detections with the selected-class mask probabilities [K, 28·28] and, for MS R-CNN, the mask scores.</summary>
public sealed record MaskDetections(Detections Boxes, float[] MaskProbs, int MaskSide, float[] MaskScores)
{
    /// <summary>Cuts a mask head's per-RoI results, pooled image after image, into each image's.</summary>
    /// <param name="maskProbs">[R·side²] for all RoIs.</param>
    /// <param name="scoreFactors">Per RoI, what the box score is multiplied by (MS R-CNN's predicted IoU); null keeps the box scores.</param>
    /// <param name="maps">Per RoI when explaining, else empty.</param>
    public static List<(MaskDetections Masks, IReadOnlyList<OcclusionMaps> Maps)> PerImage(IReadOnlyList<Detections> detections, float[] maskProbs, int side,
        float[]? scoreFactors, IReadOnlyList<OcclusionMaps> maps)
    {
        int plane = side * side, start = 0;
        var result = new List<(MaskDetections, IReadOnlyList<OcclusionMaps>)>(detections.Count);
        foreach (var d in detections)
        {
            var scores = new float[d.Count];
            for (int i = 0; i < d.Count; i++) scores[i] = scoreFactors is null ? d.Scores[i] : d.Scores[i] * scoreFactors[start + i];
            var masks = new MaskDetections(d, maskProbs.AsSpan(start * plane, d.Count * plane).ToArray(), side, scores);
            result.Add((masks, maps.Count == 0 ? [] : maps.Skip(start).Take(d.Count).ToList()));
            start += d.Count;
        }
        return result;
    }
}
