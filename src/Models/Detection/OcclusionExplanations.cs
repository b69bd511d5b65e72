using NativeSeg.Models.Inference;

namespace NativeSeg.Models.Detection;

/// <summary>Pairs postprocessed instances with the maps behind the masks of the detections they came from.</summary>
public static class OcclusionExplanations
{
    /// <param name="traced">Instances with their detection index, from <see cref="InstancePostprocessor.RunTraced"/>.</param>
    /// <param name="detections">The image's detections in the batch image's coordinates.</param>
    /// <param name="maps">The image's maps, one list per detection in the same order.</param>
    /// <param name="scale">Batch-image to image coordinates, as the postprocessor maps boxes.</param>
    /// <param name="columns">Maps per figure row.</param>
    public static IReadOnlyList<ExplainedInstance> Assemble(IReadOnlyList<(SegmentedInstance Instance, int Detection)> traced,
        Detections detections, IReadOnlyList<IReadOnlyList<ExplanationMap>> maps, (float X, float Y) scale, int columns) =>
        traced.Select(t =>
        {
            var b = detections.Boxes.AsSpan(t.Detection * 4, 4);
            return new ExplainedInstance(t.Instance, b[0] * scale.X, b[1] * scale.Y, b[2] * scale.X, b[3] * scale.Y, maps[t.Detection], columns);
        }).ToList();
}
