using NativeSeg.Cli.Rendering;
using SkiaSharp;

namespace NativeSeg.Tests.Cli.Rendering;

public class InstanceLabelTests
{
    private const string Text = "traffic light 0.98";

    /// <summary>The text's ink, measured with the font the layout chose, where Draw puts it.</summary>
    private static SKRect Ink(LabelLayout layout)
    {
        using var font = LabelFont.Create(layout.FontSize);
        font.MeasureText(Text, out var ink);
        ink.Offset(layout.Baseline);
        return ink;
    }

    private static void AssertInside(SKRect inner, SKRect outer) =>
        Assert.True(inner.Left >= outer.Left && inner.Top >= outer.Top && inner.Right <= outer.Right && inner.Bottom <= outer.Bottom,
            $"{inner} is not inside {outer}");

    [Theory]
    [InlineData(180, 50, 200, 90)]
    [InlineData(0, 0, 30, 30)]
    [InlineData(170, 100, 200, 120)]
    [InlineData(-20, 110, 215, 140)]
    public void LabelsOfBoxesAtTheEdgesLieInsideTheImage(float x1, float y1, float x2, float y2)
    {
        var layout = InstanceLabel.Place(Text, new SKRect(x1, y1, x2, y2), 14, 200, 120);

        AssertInside(layout.Background, new SKRect(0, 0, 200, 120));
        AssertInside(Ink(layout), layout.Background);
        Assert.Equal(14, layout.FontSize);
    }

    [Fact]
    public void LabelSitsAboveTheBoxWhenThereIsRoomAndInsideItsTopWhenNot()
    {
        var above = InstanceLabel.Place(Text, new SKRect(20, 60, 120, 110), 14, 200, 120);
        var inside = InstanceLabel.Place(Text, new SKRect(20, 5, 120, 110), 14, 200, 120);

        Assert.Equal((20f, 60f), (above.Background.Left, above.Background.Bottom));
        Assert.Equal((20f, 5f), (inside.Background.Left, inside.Background.Top));
    }

    [Fact]
    public void LabelWiderThanTheImageIsDrawnSmaller()
    {
        var layout = InstanceLabel.Place(Text, new SKRect(2, 2, 30, 20), 14, 60, 40);

        Assert.InRange(layout.FontSize, 1, 14);
        AssertInside(layout.Background, new SKRect(0, 0, 60, 40));
        AssertInside(Ink(layout), layout.Background);
    }
}
