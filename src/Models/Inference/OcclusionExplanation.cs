using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Models.Inference;

/// <summary>A bilayer head's four probability maps for one detection, each <see cref="Side"/>² row-major over its RoI.</summary>
public sealed record OcclusionMaps(float[] OccluderMask, float[] OccluderBoundary, float[] OccludeeMask, float[] OccludeeBoundary, int Side);

/// <summary>An instance with the RoI its mask was predicted in (image coordinates, unclipped) and the maps behind the mask.</summary>
public sealed record ExplainedInstance(SegmentedInstance Instance, float RoiX1, float RoiY1, float RoiX2, float RoiY2, OcclusionMaps Maps);

/// <summary>A model with a bilayer (occluder/occludee) mask head that can show what its masks are made of: `segment --explain`.</summary>
public interface IOcclusionExplainer
{
    /// <summary>
    /// True when the loaded model's mask head is bilayer; single-layer models answer false and
    /// <see cref="Explain"/> refuses them.
    /// </summary>
    bool CanExplain { get; }

    /// <summary>The instances of one image with all four outputs of the bilayer head, which inference alone skips.</summary>
    IReadOnlyList<ExplainedInstance> Explain(Image image);
}
