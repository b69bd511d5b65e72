using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Fuzz.Targets;

internal static class FuzzImageLimits
{
    /// <summary>
    /// Smaller than the engine's default so that a mutated header cannot make every execution zero hundreds
    /// of megabytes; the limit check itself is the same code.
    /// </summary>
    public static ImageLimits Value { get; } = new(MaxSide: 2048, MaxPixels: 1 << 22);
}
