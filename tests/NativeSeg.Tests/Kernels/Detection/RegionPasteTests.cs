using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.MaskPaste;
using MaskPasteOp = NativeSeg.Kernels.MaskPaste.MaskPaste;

namespace NativeSeg.Tests.Kernels.Detection;

/// <summary>
/// Pasting each mask over its region and encoding RLE from the region gives exactly the whole-image paste's
/// RLE, for boxes inside the image, hanging over every edge, sub-pixel, inverted and covering it all.
/// </summary>
public sealed class RegionPasteTests : IDisposable
{
    private const int Count = 40, Side = 28, Height = 45, Width = 67;

    private readonly Tensor _masks = RandomTensors.Uniform(Device.Cpu, 5, 0, 1, Count, Side, Side);
    private readonly Tensor _boxes = Tensor.FromArray(MaskPasteChecks.RandomBoxes(5, Count, Height, Width), Count, 4);

    public void Dispose()
    {
        _masks.Dispose();
        _boxes.Dispose();
    }

    [Theory]
    [InlineData(PasteMethod.Detectron2)]
    [InlineData(PasteMethod.Torchvision)]
    public void RegionRleEqualsTheWholeImageRle(PasteMethod method)
    {
        var whole = WholeImage(_masks, _boxes, method);
        var rles = MaskRleEncoder.Encode(_masks, _boxes, Height, Width, method);
        int plane = Height * Width, set = 0;
        for (int r = 0; r < Count; r++)
        {
            var expected = Rle.FromRowMajor(whole.AsSpan(r * plane, plane), Height, Width);
            Assert.True(expected.Counts.SequenceEqual(rles[r].Counts), $"{method} mask {r}: region RLE differs from the whole-image RLE");
            set += (int)expected.Area;
        }
        Assert.True(set > plane, "the masks set too few pixels to compare");
    }

    [Theory]
    [InlineData(PasteMethod.Detectron2)]
    [InlineData(PasteMethod.Torchvision)]
    public void ChunksOfAnySizeEncodeTheSameMasks(PasteMethod method)
    {
        var oneLaunch = MaskRleEncoder.Encode(_masks, _boxes, Height, Width, method);
        var regions = MaskPasteOp.Regions(_boxes, Side, Height, Width, method);
        Assert.Contains(regions, r => r.Area == 0);
        Assert.Contains(regions, r => r.Area == Height * Width);
        // One byte per chunk forces one mask per chunk; the middle size mixes chunks of one and of several.
        foreach (long chunk in new[] { 1L, regions.Max(r => r.Area) + 1 })
        {
            var chunked = MaskRleEncoder.Encode(_masks, _boxes, Height, Width, method, chunkBytes: chunk);
            for (int r = 0; r < Count; r++)
                Assert.True(oneLaunch[r].Counts.SequenceEqual(chunked[r].Counts), $"{method}, {chunk}-byte chunks: mask {r} differs");
        }
    }

    [Fact]
    public void RegionsStayInsideTheImage()
    {
        using var boxes = Tensor.FromArray(new[] { -50f, -40, 500, 400, 1e30f, 5, 2e30f, 9, float.NaN, 1, 3, 4, 66.5f, 44.5f, 80, 90 }, 4, 4);
        foreach (var method in new[] { PasteMethod.Detectron2, PasteMethod.Torchvision })
            foreach (var region in MaskPasteOp.Regions(boxes, Side, Height, Width, method))
            {
                Assert.InRange(region.X, 0, Width);
                Assert.InRange(region.Y, 0, Height);
                Assert.InRange(region.X + region.Width, 0, Width);
                Assert.InRange(region.Y + region.Height, 0, Height);
            }
    }

    /// <summary>
    /// The whole image evaluated at every pixel: torchvision's own whole-image probabilities thresholded, and
    /// detectron2's paste written out here, grid_sample (zero padding) at each pixel of the rectangle its CPU
    /// path pastes into, [floor(x0) − 1, ceil(x1) + 1) × [floor(y0) − 1, ceil(y1) + 1).
    /// </summary>
    private static byte[] WholeImage(Tensor masks, Tensor boxes, PasteMethod method)
    {
        if (method == PasteMethod.Torchvision)
        {
            using var probabilities = MaskPasteOp.PasteProbabilities(masks, boxes, Height, Width);
            return [.. probabilities.AsSpan<float>().ToArray().Select(v => (byte)(v > 0.5f ? 1 : 0))];
        }
        var m = masks.AsSpan<float>().ToArray();
        var b = boxes.AsSpan<float>().ToArray();
        var result = new byte[Count * Height * Width];
        for (int r = 0; r < Count; r++)
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    float x0 = b[r * 4], y0 = b[r * 4 + 1], x1 = b[r * 4 + 2], y1 = b[r * 4 + 3];
                    if (x < MathF.Floor(x0) - 1 || x >= MathF.Ceiling(x1) + 1 || y < MathF.Floor(y0) - 1 || y >= MathF.Ceiling(y1) + 1) continue;
                    float ix = (((x + 0.5f - x0) / (x1 - x0) * 2f - 1f) + 1f) * (Side / 2f) - 0.5f;
                    float iy = (((y + 0.5f - y0) / (y1 - y0) * 2f - 1f) + 1f) * (Side / 2f) - 0.5f;
                    float fx = MathF.Floor(ix), fy = MathF.Floor(iy), w = ix - fx, n = iy - fy;
                    float Tap(float ty, float tx) =>
                        ty >= 0 && ty < Side && tx >= 0 && tx < Side ? m[r * Side * Side + (int)ty * Side + (int)tx] : 0f;
                    float v = Tap(fy, fx) * ((1f - n) * (1f - w));
                    v += Tap(fy, fx + 1) * ((1f - n) * w);
                    v += Tap(fy + 1, fx) * (n * (1f - w));
                    v += Tap(fy + 1, fx + 1) * (n * w);
                    result[(r * Height + y) * Width + x] = (byte)(v >= 0.5f ? 1 : 0);
                }
        return result;
    }
}
