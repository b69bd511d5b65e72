using System.Buffers.Binary;

namespace NativeSeg.Engine.Formats.Images;

/// <summary>
/// The EXIF orientation tag (0x0112) of a JPEG and the transpose it asks for, matching detectron2's
/// <c>_apply_exif_orientation</c> (PIL transposes: 2 mirror, 3 rotate 180, 4 flip, 5 transpose,
/// 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise).
/// </summary>
public static class ExifOrientation
{
    private const int OrientationTag = 0x0112;

    /// <summary>
    /// The orientation 1–8, or 1 when the file has none. Broken EXIF data is ignored rather than
    /// fatal, as PIL does: the pixels are still good.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return 1;
        int pos = 2;
        while (pos + 4 <= jpeg.Length)
        {
            if (jpeg[pos] != 0xFF) return 1;
            byte marker = jpeg[pos + 1];
            if (marker == 0xFF)
            {
                pos++;
                continue;
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD8))
            {
                pos += 2;
                continue;
            }
            // Metadata segments all precede the scan data.
            if (marker is 0xDA or 0xD9) return 1;
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(pos + 2)..]);
            if (length < 2 || pos + 2 + length > jpeg.Length) return 1;
            var body = jpeg.Slice(pos + 4, length - 2);
            if (marker == 0xE1 && body.StartsWith("Exif\0\0"u8)) return FromTiff(body[6..]);
            pos += 2 + length;
        }
        return 1;
    }

    public static Image Apply(Image image, int orientation)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (orientation is < 2 or > 8) return image;
        int w = image.Width, h = image.Height, c = image.Channels;
        bool swap = orientation >= 5;
        int outW = swap ? h : w, outH = swap ? w : h;
        var src = image.Pixels;
        var dst = new byte[src.Length];
        for (int r = 0; r < outH; r++)
        {
            for (int col = 0; col < outW; col++)
            {
                (int y, int x) = orientation switch
                {
                    2 => (r, w - 1 - col),
                    3 => (h - 1 - r, w - 1 - col),
                    4 => (h - 1 - r, col),
                    5 => (col, r),
                    6 => (h - 1 - col, r),
                    7 => (h - 1 - col, w - 1 - r),
                    _ => (col, w - 1 - r),
                };
                Array.Copy(src, (y * w + x) * c, dst, (r * outW + col) * c, c);
            }
        }
        return new Image(outW, outH, c, dst);
    }

    private static int FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return 1;
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I') little = true;
        else if (tiff[0] == 'M' && tiff[1] == 'M') little = false;
        else return 1;
        if (U16(tiff, 2, little) != 42) return 1;
        long ifd = U32(tiff, 4, little);
        if (ifd + 2 > tiff.Length) return 1;
        int count = U16(tiff, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            long entry = ifd + 2 + 12L * i;
            if (entry + 12 > tiff.Length) return 1;
            int e = (int)entry;
            if (U16(tiff, e, little) != OrientationTag) continue;
            int type = U16(tiff, e + 2, little);
            // SHORT is what the standard prescribes; some writers use LONG.
            long value = type switch { 3 => U16(tiff, e + 8, little), 4 => U32(tiff, e + 8, little), _ => 1 };
            return value is >= 1 and <= 8 ? (int)value : 1;
        }
        return 1;
    }

    private static int U16(ReadOnlySpan<byte> s, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(s[at..]) : BinaryPrimitives.ReadUInt16BigEndian(s[at..]);

    private static long U32(ReadOnlySpan<byte> s, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(s[at..]) : BinaryPrimitives.ReadUInt32BigEndian(s[at..]);
}
