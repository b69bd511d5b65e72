using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// The typeface of all text NativeSeg draws: Liberation Sans (Fonts/, SIL Open Font License 1.1), embedded in the
/// assembly because a fresh Debian has no font files and this Skia build (no fontconfig) finds none without them.
/// </summary>
internal static class LabelFont
{
    private const string Resource = "fonts/LiberationSans-Regular.ttf";

    private static readonly Lazy<SKTypeface> Face = new(Load);

    /// <summary>An antialiased font of the embedded typeface at <paramref name="size"/> pixels.</summary>
    public static SKFont Create(float size) => new(Face.Value, size) { Edging = SKFontEdging.Antialias, Subpixel = true };

    private static SKTypeface Load()
    {
        using var stream = typeof(LabelFont).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"the CLI assembly lacks its embedded font {Resource}");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        using var data = SKData.CreateCopy(bytes);
        return SKTypeface.FromData(data) ?? throw new InvalidOperationException($"Skia cannot read the embedded font {Resource}");
    }
}
