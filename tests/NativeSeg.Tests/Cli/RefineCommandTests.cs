using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Tests.Bpr;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `nativeseg refine` and `segment --refine` end to end on the CPU with the BPR fixture's hashed hr18s weights
/// (about 10 s): refined results written, empty and full masks passed through, mismatched inputs named.
/// </summary>
public class RefineCommandTests
{
    private const int Width = 160, Height = 120;

    [Fact]
    public void RefinesMasksAndPassesEmptyAndFullMasksThrough()
    {
        using var temp = new TempFolder();
        var (image, model, results) = Setup(temp, Width, Height);
        var (code, output, error) = CliRun.Run("refine", image, "--results", results, "--model", model, "--json", temp.File("refined.json"),
            "--device", "cpu", "--out", temp.File("figures"));
        Assert.True(code == 0, error + output);
        var before = CocoJson.ReadResults(results);
        var after = CocoJson.ReadResults(temp.File("refined.json"));
        Assert.Equal(before.Count, after.Count);
        Rle Mask(CocoAnnotation a) => ((RleSegmentation)a.Segmentation!).Mask;
        Assert.Equal(0, Mask(after[1]).Area);
        Assert.Equal((long)Width * Height, Mask(after[2]).Area);
        Assert.Equal(before.Select(b => b.Score), after.Select(a => a.Score));
        Assert.Contains("pixels changed", output);
        var figure = ImageFile.Read(temp.File("figures/image.png"));
        Assert.Equal((2 * Width, Height), (figure.Width, figure.Height));
    }

    [Fact]
    public void AResultOfAnotherSizeNamesTheImage()
    {
        using var temp = new TempFolder();
        var (_, model, results) = Setup(temp, Width, Height);
        string other = temp.File("other.png");
        Png.Write(other, new Image(Width + 10, Height, 3, new byte[(Width + 10) * Height * 3]));
        var (code, _, error) = CliRun.Run("refine", other, "--results", results, "--model", model, "--json", temp.File("refined.json"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("other.png", error);
        Assert.Contains($"{Width}x{Height}", error);
        Assert.False(File.Exists(temp.File("refined.json")));
    }

    [Fact]
    public void AnImageIdWithoutAnImageIsNamed()
    {
        using var temp = new TempFolder();
        var (image, model, _) = Setup(temp, Width, Height);
        string results = temp.File("seven.json");
        WriteResults(results, imageId: 7, Width, Height);
        var (code, _, error) = CliRun.Run("refine", image, "--results", results, "--model", model, "--json", temp.File("refined.json"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("image_id 7", error);
    }

    [Fact]
    public void ASegmenterIsNotARefiner()
    {
        using var temp = new TempFolder();
        var (image, _, results) = Setup(temp, Width, Height);
        string notBpr = temp.File("other.safetensors");
        using (var t = Tensor.FromArray(new float[] { 1 }, 1))
            SafetensorsWriter.Write(notBpr, [new("x", t)], new Dictionary<string, string> { ["architecture"] = "maskrcnn_resnet50_fpn_torchvision" });
        var (code, _, error) = CliRun.Run("refine", image, "--results", results, "--model", notBpr, "--json", temp.File("refined.json"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("not a BPR refiner", error);
    }

    [Fact]
    public void SegmentRefinesWhatItFinds()
    {
        using var temp = new TempFolder();
        var (image, model, _) = Setup(temp, Width, Height);
        var (code, output, error) = CliRun.Run("segment", image, "--refine", model, "--device", "cpu", "--out", temp.File("out"));
        Assert.True(code == 0, error + output);
        Assert.True(File.Exists(temp.File("out/results.json")));
    }

    /// <summary>An image with a bright disc, the fixture's hashed BPR model, and results: the disc, an empty mask and a full one.</summary>
    private static (string Image, string Model, string Results) Setup(TempFolder temp, int w, int h)
    {
        var pixels = new byte[w * h * 3];
        var disc = Disc(w, h);
        for (int i = 0; i < w * h; i++) pixels[3 * i] = pixels[3 * i + 1] = pixels[3 * i + 2] = (byte)(disc[i] != 0 ? 200 : 40 + i % 17);
        string image = temp.File("image.png");
        Png.Write(image, new Image(w, h, 3, pixels));
        string model = temp.File("bpr.safetensors");
        using (var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_hrnet.safetensors")))
        {
            var weights = BprFixture.Weights(fixture.Metadata);
            try
            {
                SafetensorsWriter.Write(model, weights, new Dictionary<string, string> { ["architecture"] = "bpr-hr18s" });
            }
            finally
            {
                foreach (var t in weights.Values) t.Dispose();
            }
        }
        string results = temp.File("coarse.json");
        WriteResults(results, 1, w, h);
        return (image, model, results);
    }

    private static void WriteResults(string path, long imageId, int w, int h)
    {
        var full = new byte[w * h];
        Array.Fill(full, (byte)1);
        var masks = new[] { Disc(w, h), new byte[w * h], full };
        using var stream = File.Create(path);
        CocoJson.WriteResults(stream, masks.Select((m, k) => new CocoAnnotation
        {
            ImageId = imageId,
            CategoryId = 1,
            Segmentation = new RleSegmentation(Rle.FromRowMajor(m, h, w)),
            Box = new CocoBox(0, 0, w, h),
            Score = 0.9 - 0.1 * k,
        }));
    }

    private static byte[] Disc(int w, int h)
    {
        var mask = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                mask[y * w + x] = (byte)((x - 70) * (x - 70) + (y - 60) * (y - 60) <= 40 * 40 ? 1 : 0);
        return mask;
    }
}
