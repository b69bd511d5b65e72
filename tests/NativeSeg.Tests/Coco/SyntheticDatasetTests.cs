using NativeSeg.Cli;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Evaluation;
using NativeSeg.Models.Synthetic;
using NativeSeg.Tests.Cli;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Coco;

public class SyntheticDatasetTests
{
    private static readonly SyntheticOptions Small = new(Images: 6, Width: 96, Height: 72, Classes: 7, InstancesPerImage: 9, Seed: 11);

    private static byte[] Json(CocoDataset dataset)
    {
        using var stream = new MemoryStream();
        CocoJson.WriteDataset(stream, dataset);
        return stream.ToArray();
    }

    [Fact]
    public void SameSeedSameBytesOtherSeedOtherData()
    {
        var a = Enumerable.Range(0, Small.Images).Select(i => SyntheticDataset.Generate(Small, i)).ToList();
        var b = Enumerable.Range(0, Small.Images).Reverse().Select(i => SyntheticDataset.Generate(Small, i)).Reverse().ToList();
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Rgb, b[i].Rgb);
        Assert.Equal(Json(SyntheticDataset.ToCoco(Small, a, "png")), Json(SyntheticDataset.ToCoco(Small, b, "png")));
        var other = SyntheticDataset.Generate(Small with { Seed = 12 }, 0);
        Assert.NotEqual(a[0].Rgb, other.Rgb);
    }

    /// <summary>
    /// Reads the written annotations back and re-derives every modal mask and occluder field from the
    /// amodal masks and the depth order: visible = amodal minus everything above; occluder = the pixels of
    /// the visible box covered by anything above, compared after pycocotools-style polygon rasterisation.
    /// </summary>
    [Fact]
    public void ModalAndOccluderFieldsFollowFromAmodalMasksAndDepth()
    {
        var images = Enumerable.Range(0, Small.Images).Select(i => SyntheticDataset.Generate(Small, i)).ToList();
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("gt.json"), Json(SyntheticDataset.ToCoco(Small, images, "png")));
        var dataset = CocoJson.ReadDataset(temp.File("gt.json"));
        Assert.Equal(7, dataset.Categories.Count);
        Assert.Equal("ellipse-2", dataset.Categories[6].Name);
        int occluded = 0;
        foreach (var image in dataset.Images)
        {
            var anns = dataset.Annotations.Where(a => a.ImageId == image.Id).OrderBy(a => a.Depth).ToList();
            Assert.True(anns.Count > 1);
            for (int i = 0; i < anns.Count; i++)
            {
                var a = anns[i];
                Assert.False(a.IsCrowd);
                Assert.Equal(i, a.Depth);
                var amodal = a.AmodalSegmentation!.ToRle(image.Height, image.Width);
                var above = anns.Skip(i + 1).Select(x => x.AmodalSegmentation!.ToRle(image.Height, image.Width)).ToList();
                var covered = above.Count > 0 ? Rle.Merge(above) : new Rle(image.Height, image.Width, [(uint)(image.Height * image.Width)]);
                var visible = a.Segmentation!.ToRle(image.Height, image.Width);
                Assert.Equal(amodal.Area - Rle.Intersection(amodal, covered), visible.Area);
                Assert.Equal(visible.Area, Rle.Intersection(visible, amodal));
                Assert.Equal(0, Rle.Intersection(visible, covered));
                Assert.Equal(visible.Area, a.Area);
                Assert.Equal(visible.ToBox(), a.Box);

                var box = visible.ToBox();
                var inBox = new byte[image.Height * image.Width];
                for (int y = (int)box.Y; y < box.Y + box.Height; y++)
                    for (int x = (int)box.X; x < box.X + box.Width; x++) inBox[y * image.Width + x] = 1;
                var expected = Rle.Merge([covered, Rle.FromRowMajor(inBox, image.Height, image.Width)], intersect: true);
                var polygons = a.OccluderPolygons!;
                if (expected.Area == 0) { Assert.Empty(polygons); continue; }
                occluded++;
                Assert.All(polygons, p => Assert.Equal(8, p.Length));
                var drawn = new PolygonSegmentation(polygons).ToRle(image.Height, image.Width);
                Assert.Equal(expected.ToRowMajor(), drawn.ToRowMajor());
            }
        }
        Assert.True(occluded > 5);
    }

    [Fact]
    public void GroundTruthAsResultsScoresOne()
    {
        var images = Enumerable.Range(0, Small.Images).Select(i => SyntheticDataset.Generate(Small, i)).ToList();
        var dataset = SyntheticDataset.ToCoco(Small, images, "png");
        foreach (var type in new[] { IouType.Segm, IouType.Boundary, IouType.Bbox })
        {
            var r = CocoEvaluator.Evaluate(dataset, RealCocoEvaluationTests.GroundTruthAsResults(dataset, type), type);
            Assert.Equal(1.0, r.Stats[0], 12);
            Assert.Equal(1.0, r.Stats[8], 12);
        }
    }

    [Fact]
    public void CliWritesTheSameBytesTwiceAndEvalReadsThem()
    {
        using var temp = new TempFolder();
        string[] Args(string dir) => ["synth", "--out", temp.File(dir), "--images", "3", "--size", "64x48", "--seed", "5", "--classes", "3"];
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, Program.Run(Args("a"), output, error));
        Assert.Equal(0, Program.Run(Args("b"), output, error));
        foreach (string file in new[] { "annotations.json", "images/000001.png", "images/000003.png" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(temp.File("a"), file)), File.ReadAllBytes(Path.Combine(temp.File("b"), file)));

        string annotations = Path.Combine(temp.File("a"), "annotations.json");
        var dataset = CocoJson.ReadDataset(annotations);
        using (var s = File.Create(temp.File("res.json")))
            CocoJson.WriteResults(s, RealCocoEvaluationTests.GroundTruthAsResults(dataset, IouType.Segm));
        output = new StringWriter();
        Assert.Equal(0, Program.Run(["eval", "--annotations", annotations, "--results", temp.File("res.json"), "--json", temp.File("out.json")], output, error));
        string text = output.ToString();
        Assert.Contains(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000", text);
        Assert.Contains(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = ", text);
        Assert.Contains("occl=", text);
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(temp.File("out.json"))).RootElement;
        Assert.Equal(1.0, json.GetProperty("stats").GetProperty("AP").GetDouble(), 12);
    }

    [Fact]
    public void CliExplainsWhatIsMissing()
    {
        using var temp = new TempFolder();
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, Program.Run(["synth", "--out", temp.Path, "--images", "1", "--size", "32x32"], output, error));
        string annotations = Path.Combine(temp.Path, "annotations.json");
        File.WriteAllText(temp.File("model.bin"), "x");
        Assert.Equal(2, Program.Run(["eval", "--annotations", annotations, "--model", temp.File("model.bin"), "--images", temp.Path], output, error));
        Assert.Contains("is not a .safetensors file made by `nativeseg convert`", error.ToString());
        File.WriteAllText(temp.File("bad.json"), """[{"image_id": 1, "category_id": 99, "bbox": [0, 0, 4, 4], "score": 0.5}]""");
        Assert.Equal(2, Program.Run(["eval", "--annotations", annotations, "--results", temp.File("bad.json"), "--iou-type", "bbox"], output, error));
        Assert.Contains("category_id 99", error.ToString());
    }

    [Theory]
    [InlineData("100000x100000", "1", "--size must be WxH with sides from 1 to 8192 pixels, e.g. 640x480, got 100000x100000")]
    [InlineData("64x9000", "1", "--size must be WxH with sides from 1 to 8192 pixels, e.g. 640x480, got 64x9000")]
    [InlineData("8192x8192", "2000", "--images 2000 at --size 8192x8192 is 134217728000 pixels; synth writes at most 100000000000")]
    public void CliRefusesOversizedDatasetsAndWritesNothing(string size, string images, string message)
    {
        using var temp = new TempFolder();
        string folder = temp.File("out");
        var (code, _, error) = CliRun.Run("synth", "--out", folder, "--images", images, "--size", size);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void CliWritesJpegsThatDecodeAndRepeatByteForByte()
    {
        using var temp = new TempFolder();
        string[] Args(string dir) => ["synth", "--out", temp.File(dir), "--images", "2", "--size", "40x24", "--seed", "3", "--format", "jpg"];
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, Program.Run(Args("a"), output, error));
        Assert.Equal(0, Program.Run(Args("b"), output, error));
        var dataset = CocoJson.ReadDataset(Path.Combine(temp.File("a"), "annotations.json"));
        Assert.Equal(["images/000001.jpg", "images/000002.jpg"], dataset.Images.Select(i => i.FileName));
        foreach (var entry in dataset.Images)
        {
            string a = Path.Combine(temp.File("a"), entry.FileName), b = Path.Combine(temp.File("b"), entry.FileName);
            var image = ImageFile.Read(a);
            Assert.Equal((40, 24, 3), (image.Width, image.Height, image.Channels));
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        }
    }
}
