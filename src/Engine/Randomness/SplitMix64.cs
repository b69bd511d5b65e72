namespace NativeSeg.Engine.Randomness;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014). Synthetic data and training's sampling must be the same on every
/// runtime, and System.Random's algorithm is not specified to stay fixed, so the generator carries its own.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Uniform in [0, n) by multiply-shift, which has no modulo bias worth noticing for n ≪ 2³².</summary>
    public int NextInt(int n) => (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);

    /// <summary>Uniform in [0, <paramref name="bound"/>) by rejection, unbiased for any bound (training's sampling).</summary>
    public int Next(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), bound, "the bound must be positive");
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)bound;
        ulong v;
        do v = NextUInt64(); while (v >= limit);
        return (int)(v % (ulong)bound);
    }

    /// <summary>An independent stream for item <paramref name="index"/>, so items can be generated in any order.</summary>
    public static SplitMix64 ForItem(ulong seed, long index)
    {
        var mixer = new SplitMix64(seed ^ ((ulong)index * 0xD1B54A32D192ED03UL));
        return new SplitMix64(mixer.NextUInt64());
    }
}
