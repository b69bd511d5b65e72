namespace NativeSeg.Models.MaskRcnn;

/// <summary>Host-side boxes (x1, y1, x2, y2) with one score each, in ranking order.</summary>
public sealed record BoxList(float[] Boxes, float[] Scores)
{
    public int Count => Scores.Length;

    public ReadOnlySpan<float> Box(int i) => Boxes.AsSpan(i * 4, 4);
}
