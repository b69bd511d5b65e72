namespace NativeSeg.Engine.Formats.Images;

/// <summary>Reads PNG and JPEG files, telling them apart by their signature rather than the file name.</summary>
public static class ImageFile
{
    /// <summary>Reads a PNG or JPEG. JPEGs come back with their EXIF orientation applied, as detectron2's reader does.</summary>
    public static Image Read(string path, ImageLimits? limits = null)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }
        return Decode(data, path, limits);
    }

    /// <param name="name">Names the input in error messages (usually its path).</param>
    public static Image Decode(ReadOnlySpan<byte> data, string name, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (data.Length == 0) throw new FileFormatException(name, "file is empty");
        if (Png.HasSignature(data)) return Png.Decode(data, name, limits);
        if (Jpeg.HasSignature(data)) return Jpeg.Decode(data, name, limits);
        throw new FileFormatException(name, "not a PNG or JPEG image (unrecognised signature)");
    }
}
