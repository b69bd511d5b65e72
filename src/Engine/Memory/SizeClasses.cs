namespace NativeSeg.Engine.Memory;

/// <summary>
/// Rounds request sizes to a small set of classes so freed blocks are reusable by similar requests:
/// powers of two split into four steps (at most 25% waste), 256-byte minimum for alignment.
/// </summary>
internal static class SizeClasses
{
    public const long Minimum = 256;

    public static long RoundUp(long bytes)
    {
        if (bytes <= Minimum) return Minimum;
        int log = 63 - (int)long.LeadingZeroCount(bytes - 1);
        long step = Math.Max(Minimum, 1L << Math.Max(0, log - 2));
        return (bytes + step - 1) / step * step;
    }
}
