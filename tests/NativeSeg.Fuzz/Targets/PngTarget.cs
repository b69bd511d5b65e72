using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Fuzz.Targets;

/// <summary>Png.Decode through libspng, as ImageFile.Read calls it for a file with the PNG signature.</summary>
public sealed class PngTarget : FuzzTarget
{
    public override string Name => "png";

    protected override void Read(byte[] input) => Png.Decode(input, "input.png", FuzzImageLimits.Value);

    protected override bool IsCleanError(Exception e) => e is FileFormatException;
}
