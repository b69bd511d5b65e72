namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// SplitMix64: a small seeded generator whose sequence is fixed by this code, not by a runtime version.
/// torch's randperm cannot be reproduced, so parity tests pass torch's sampled indices instead.
/// </summary>
public sealed class SamplingRng(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>), by rejection so no value is favoured.</summary>
    public int Next(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), bound, "the bound must be positive");
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)bound;
        ulong v;
        do v = NextUInt64(); while (v >= limit);
        return (int)(v % (ulong)bound);
    }
}
