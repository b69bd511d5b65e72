using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Models.Inference;

/// <summary>How a map's values read: probabilities in [0, 1], or signed values (logits, basis responses) of any scale.</summary>
public enum MapScale
{
    Probability,
    Signed,
}

/// <summary>One map behind a mask, <see cref="Side"/>² values row-major over the instance's RoI, with what it shows.</summary>
public sealed record ExplanationMap(string Title, float[] Values, int Side, MapScale Scale);

/// <summary>A bilayer head's four probability maps for one detection, each <see cref="Side"/>² row-major over its RoI.</summary>
public sealed record OcclusionMaps(float[] OccluderMask, float[] OccluderBoundary, float[] OccludeeMask, float[] OccludeeBoundary, int Side)
{
    /// <summary>The maps as `segment --explain` shows them: occluder mask and boundary, then occludee mask and boundary.</summary>
    public IReadOnlyList<ExplanationMap> Panels() =>
    [
        new("occluder mask", OccluderMask, Side, MapScale.Probability),
        new("occluder boundary", OccluderBoundary, Side, MapScale.Probability),
        new("occludee mask", OccludeeMask, Side, MapScale.Probability),
        new("occludee boundary", OccludeeBoundary, Side, MapScale.Probability),
    ];
}

/// <summary>
/// An instance with the RoI its mask was predicted in (image coordinates, unclipped) and the maps behind the mask,
/// in the order a figure shows them, <see cref="Columns"/> to a row after the RoI crop that starts each row.
/// </summary>
public sealed record ExplainedInstance(SegmentedInstance Instance, float RoiX1, float RoiY1, float RoiX2, float RoiY2, IReadOnlyList<ExplanationMap> Maps, int Columns);

/// <summary>A model that can show what its masks are made of: `segment --explain`.</summary>
public interface IMaskExplainer
{
    /// <summary>True when the loaded model's mask head has maps worth showing; otherwise <see cref="Explain"/> refuses it.</summary>
    bool CanExplain { get; }

    /// <summary>The instances of one image with the maps behind each mask, which inference alone skips.</summary>
    IReadOnlyList<ExplainedInstance> Explain(Image image);
}

/// <summary>A model whose masks come from a bilayer (occluder/occludee) head when it can explain them.</summary>
public interface IOcclusionExplainer : IMaskExplainer;
