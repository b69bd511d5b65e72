using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>Cell anchors against the values the spec quotes from each upstream (specs/maskrcnn.md §1.6, §2.4, §4).</summary>
public class AnchorGeneratorTests
{
    [Fact]
    public void Detectron2CellAnchorsAreUnrounded()
    {
        var cell = DetectionFlavour.Detectron2.CellAnchors(32, 4);
        float[] expected = [-22.6274f, -11.3137f, 22.6274f, 11.3137f, -16, -16, 16, 16, -11.3137f, -22.6274f, 11.3137f, 22.6274f];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], cell[i], 3);
    }

    [Fact]
    public void TorchvisionCellAnchorsAreRounded()
    {
        Assert.Equal([-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23], DetectionFlavour.Torchvision.CellAnchors(32, 4));
    }

    [Theory]
    [InlineData(32, 4, new float[] { -22, -10, 25, 13, -14, -14, 17, 17, -10, -22, 13, 25 })]
    [InlineData(64, 8, new float[] { -40, -20, 47, 27, -28, -28, 35, 35, -20, -44, 27, 51 })]
    [InlineData(128, 16, new float[] { -84, -40, 99, 55, -56, -56, 71, 71, -36, -80, 51, 95 })]
    [InlineData(256, 32, new float[] { -164, -72, 195, 103, -112, -112, 143, 143, -76, -168, 107, 199 })]
    [InlineData(512, 64, new float[] { -332, -152, 395, 215, -224, -224, 287, 287, -148, -328, 211, 391 })]
    public void MaskRcnnBenchmarkCellAnchorsAreQuantised(int size, int stride, float[] expected)
    {
        Assert.Equal(expected, DetectionFlavour.MaskRcnnBenchmark.CellAnchors(size, stride));
    }

    [Fact]
    public void TorchvisionStrideIsPaddedSizeOverMapSize()
    {
        Assert.Equal((61, 64), DetectionFlavour.Torchvision.AnchorStride(64, 800, 1088, 13, 17));
        Assert.Equal((64, 64), DetectionFlavour.Detectron2.AnchorStride(64, 800, 1088, 13, 17));
    }

    [Fact]
    public void GridShiftsCellAnchorsInRowMajorCellOrder()
    {
        float[] cell = [-1, -2, 1, 2, -3, -3, 3, 3, -2, -1, 2, 1];
        var grid = AnchorGenerator.Grid(cell, (8, 4), 2, 3);
        Assert.Equal(2 * 3 * 3 * 4, grid.Length);
        // Cell (y=1, x=2), ratio 1: shifted by (x·4, y·8) = (8, 8).
        int i = ((1 * 3 + 2) * 3 + 1) * 4;
        Assert.Equal([5, 5, 11, 11], grid[i..(i + 4)]);
    }
}
