namespace NativeSeg.Models.Bpr.Training;

/// <summary>
/// One training sample at the patch's own size (side × side, row-major): the RGB image under a boundary patch, the
/// coarse mask there (the network's mask input) and the matched ground-truth mask (its target), both 0/1.
/// </summary>
public sealed record BprPatch(int Side, byte[] Image, byte[] Coarse, byte[] Truth)
{
    /// <summary>The same patch mirrored left to right (upstream's RandomFlip moves image, coarse mask and label together).</summary>
    public BprPatch Flipped() => new(Side, Mirror(Image, 3), Mirror(Coarse, 1), Mirror(Truth, 1));

    private byte[] Mirror(byte[] pixels, int channels)
    {
        var result = new byte[pixels.Length];
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                Array.Copy(pixels, (y * Side + x) * channels, result, (y * Side + Side - 1 - x) * channels, channels);
            }
        }
        return result;
    }
}
