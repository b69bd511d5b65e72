namespace NativeSeg.Kernels.MaskPaste;

/// <summary>
/// The image pixels one pasted mask can set, [X, X + Width) × [Y, Y + Height), inside the image; every
/// pixel outside it is 0. An empty region lies at the origin so that it is inside any image.
/// </summary>
public readonly record struct PasteRegion(int X, int Y, int Width, int Height)
{
    public long Area => (long)Width * Height;

    /// <summary>The region [x0, x1) × [y0, y1) of bounds already clipped to the image; empty when either side is.</summary>
    internal static PasteRegion Between(long x0, long y0, long x1, long y1) =>
        x1 > x0 && y1 > y0 ? new((int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)) : default;
}
