using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Fuzz.Targets;

/// <summary>Jpeg.Decode through TurboJPEG, EXIF orientation included, as ImageFile.Read calls it for a JPEG.</summary>
public sealed class JpegTarget : FuzzTarget
{
    public override string Name => "jpeg";

    protected override void Read(byte[] input) => Jpeg.Decode(input, "input.jpg", FuzzImageLimits.Value);

    protected override bool IsCleanError(Exception e) => e is FileFormatException;
}
