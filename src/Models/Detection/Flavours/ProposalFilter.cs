namespace NativeSeg.Models.Detection.Flavours;

/// <summary>
/// The size and score test a clipped RPN proposal passes, in the plain form the device RPN's kernels take: both
/// sides at least <see cref="MinSize"/> (above it when <see cref="StrictSize"/>), the score at least
/// <see cref="MinScore"/> (above it when <see cref="StrictScore"/>). A NaN side or score fails either way.
/// </summary>
public sealed record ProposalFilter(float MinSize, bool StrictSize, float MinScore, bool StrictScore)
{
    public bool Keeps(float x1, float y1, float x2, float y2, float score) =>
        Passes(x2 - x1, MinSize, StrictSize) && Passes(y2 - y1, MinSize, StrictSize) && Passes(score, MinScore, StrictScore);

    private static bool Passes(float v, float min, bool strict) => strict ? v > min : v >= min;
}
