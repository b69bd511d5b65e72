using NativeSeg.Api;
using NativeSeg.Cli;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Native;

namespace NativeSeg.Tests.Api;

/// <summary>The public C# API (the NativeSeg package) against the CLI, and its argument checks.</summary>
public class SegmenterTests
{
    private static string Model => DefaultModel.Find() ?? throw new InvalidOperationException("weights/default.safetensors is missing");

    [Fact]
    public void FileAndPaddedPixelsGiveTheCliResults()
    {
        using var temp = new TempFolder();
        string png = ShapesImage.Write(temp, out var image);
        Assert.Equal(0, Program.Run(["segment", png, "--device", "cpu", "--model", Model, "--out", temp.File("out")], TextWriter.Null, TextWriter.Null));
        var cli = CocoJson.ReadResults(temp.File("out/results.json"));

        using var model = Segmenter.Load(Model, "cpu");
        int stride = image.Width * 3 + 5;
        var padded = new byte[stride * image.Height];
        for (int y = 0; y < image.Height; y++) image.Pixels.AsSpan(y * image.Width * 3, image.Width * 3).CopyTo(padded.AsSpan(y * stride));
        foreach (var found in new[] { model.Segment(png), model.Segment(padded, image.Width, image.Height, stride) })
        {
            Assert.Equal(cli.Count, found.Count);
            for (int i = 0; i < cli.Count; i++)
            {
                Assert.Equal(cli[i].CategoryId, found[i].CategoryId);
                Assert.Equal(cli[i].Score!.Value, found[i].Score, 5);
                Assert.Equal(Assert.IsType<RleSegmentation>(cli[i].Segmentation).Mask.Counts.ToArray(), found[i].Mask.Counts.ToArray());
            }
        }
    }

    [Fact]
    public void MinScoreDropsLowerInstancesAndResultsOutliveTheModel()
    {
        using var temp = new TempFolder();
        string png = ShapesImage.Write(temp, out _);
        Segmentation all, confident;
        using (var model = Segmenter.Load(Model, "cpu"))
        {
            all = model.Segment(png);
            confident = model.Segment(png, minScore: 0.5f);
        }
        Assert.Equal(all.Where(i => i.Score > 0.5f).Select(i => i.Mask.Counts.ToArray()), confident.Select(i => i.Mask.Counts.ToArray()));
        Assert.True(confident.Count < all.Count);
        Assert.Equal(confident[0].Mask.Area, confident[0].MaskPixels().Sum(b => (long)b));
    }

    [Fact]
    public void InvalidArgumentsAreRejectedWithTheirReason()
    {
        Assert.Contains("tpu", Assert.Throws<ArgumentException>(() => Segmenter.Load(Model, "tpu")).Message);
        Assert.Contains("threshold", Assert.Throws<ArgumentException>(() => Segmenter.Load(Model, "cpu", float.NaN)).Message);
        using var model = Segmenter.Load(Model, "cpu");
        var pixels = new byte[30];
        Assert.Contains("stride", Assert.Throws<ArgumentException>(() => model.Segment(pixels, 4, 2, 11)).Message);
        Assert.Contains("bytes", Assert.Throws<ArgumentException>(() => model.Segment(pixels, 4, 3, 12)).Message);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => model.Segment(pixels, 0, 3, 12)).Message);
        Assert.Contains("threshold", Assert.Throws<ArgumentException>(() => model.Segment(pixels, 2, 2, 6, 1.5f)).Message);
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Segment(pixels, 2, 2, 6));
    }
}
