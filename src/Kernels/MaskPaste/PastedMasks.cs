using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskPaste;

/// <summary>
/// Binary masks as <see cref="MaskPaste.Paste"/> leaves them: mask r's region of the image, row-major, at
/// <see cref="Offset"/>(r) of the uint8 <see cref="Bits"/> (on the pasting device); 0 outside its region.
/// </summary>
public sealed class PastedMasks(Tensor bits, PasteRegion[] regions, long[] offsets, int imageHeight, int imageWidth) : IDisposable
{
    public Tensor Bits { get; } = bits;

    public IReadOnlyList<PasteRegion> Regions { get; } = regions;

    public int ImageHeight { get; } = imageHeight;

    public int ImageWidth { get; } = imageWidth;

    /// <summary>Where each region starts in <see cref="Bits"/>, and the total last.</summary>
    internal long[] Offsets { get; } = offsets;

    public long Offset(int r) => Offsets[r];

    /// <summary>Each mask as COCO RLE of the whole image, encoded from its region alone.</summary>
    public unsafe Rle[] Encode()
    {
        using var host = Bits.Device.IsCpu ? null : Bits.To(Device.Cpu);
        byte* data = (byte*)(host ?? Bits).Pointer;
        var rles = new Rle[Regions.Count];
        for (int r = 0; r < rles.Length; r++)
        {
            var region = Regions[r];
            var crop = new ReadOnlySpan<byte>(data + Offsets[r], checked((int)region.Area));
            rles[r] = Rle.FromCrop(crop, region.X, region.Y, region.Width, region.Height, ImageHeight, ImageWidth);
        }
        return rles;
    }

    public void Dispose() => Bits.Dispose();
}
