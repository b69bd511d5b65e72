using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.MaskRle;
using NativeSeg.Tests.Emulation;
using MaskRleOp = NativeSeg.Kernels.MaskRle.MaskRle;

namespace NativeSeg.Tests.Kernels.Detection;

/// <summary>
/// The device RLE (emulated) of bitmasks gives, mask by mask, pycocotools' RLE of their bytes as <see cref="Rle"/>
/// encodes them: empty, full, single-pixel, striped, alternating, random and blob masks, sizes whose pixels fill whole
/// words or not, with random dead rows after the live ones and random bits past the last pixel.
/// </summary>
public class MaskRleTests
{
    [Theory]
    [InlineData(37, 29)]
    [InlineData(64, 3)]
    [InlineData(1, 1)]
    [InlineData(1, 70)]
    [InlineData(90, 41)]
    public void DeviceRunsAreTheRlesOfTheMasks(int height, int width)
    {
        var masks = MaskRleMasks.Patterns(height, width).Concat(MaskRleMasks.Blobs(height + width, 4, height, width)).ToList();
        const int dead = 2;
        var device = EmulatedDevice.Device;
        using var bits = MaskRleMasks.Bits(masks, dead, height, width, seed: 7).To(device);
        using var hostCount = Tensor.FromArray(new long[] { masks.Count }, 1);
        using var count = hostCount.To(device);

        using var layout = MaskRleOp.Layout(bits, count, height, width);
        var runs = layout.Runs.ToArray<int>();
        using var lengths = MaskRleOp.Encode(bits, count, layout, height, width, runs.Sum());
        var all = lengths.ToArray<int>();

        Assert.Equal(new int[dead], runs[masks.Count..]);
        int at = 0;
        for (int r = 0; r < masks.Count; r++)
        {
            var expected = Rle.FromColumnMajor(masks[r], height, width).Counts.ToArray();
            var ours = all.AsSpan(at, runs[r]).ToArray().Select(c => (uint)c);
            Assert.True(expected.SequenceEqual(ours), $"{height}x{width} mask {r}: device runs [{string.Join(", ", ours)}], pycocotools' [{string.Join(", ", expected)}]");
            at += runs[r];
        }
        Assert.Equal(all.Length, at);
    }

    [Fact]
    public void BitsOfAnotherSizeAreRefused()
    {
        using var bits = Tensor.Empty(Device.Cpu, DType.Int32, 2, 3);
        using var count = Tensor.FromArray(new long[] { 2 }, 1);
        var e = Assert.Throws<ArgumentException>(() => MaskRleOp.Layout(bits, count, 10, 10));
        Assert.Contains("4 words per row for 10x10", e.Message);
    }
}
