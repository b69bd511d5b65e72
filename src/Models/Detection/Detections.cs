namespace NativeSeg.Models.Detection;

/// <summary>One image's detections in batch-image coordinates; <see cref="Labels"/> are logit indices.</summary>
public sealed record Detections(float[] Boxes, float[] Scores, int[] Labels)
{
    public int Count => Scores.Length;

    public BoxList AsBoxList() => new(Boxes, Scores);
}
