using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Evaluation;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Coco;

internal static class SharedData
{
    /// <summary>
    /// NATIVESEG_SHARED_DATA when set (a checkout elsewhere, e.g. a worktree), else ../shared/data beside the checkout,
    /// or null (tests then return early and say why).
    /// </summary>
    public static string? Folder([CallerFilePath] string source = "")
    {
        if (Environment.GetEnvironmentVariable("NATIVESEG_SHARED_DATA") is { Length: > 0 } given)
            return Directory.Exists(given) ? Path.GetFullPath(given) : null;
        string root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", ".."));
        string data = Path.Combine(root, "..", "shared", "data");
        return Directory.Exists(data) ? Path.GetFullPath(data) : null;
    }

    public static string? File(string relative)
    {
        string? folder = Folder();
        if (folder is null)
        {
            Console.WriteLine($"SKIPPED: ../shared/data is absent, so {relative} cannot be read");
            return null;
        }
        return Path.Combine(folder, relative);
    }

    public const string Occl10 = "coco_val2017_occl10/annotations/instances_val2017_occl10.json";
    public const string Mini = "coco_mini_val2017/annotations/instances_val2017.json";
}

/// <summary>Masks, strings, areas, boxes and IoUs against pycocotools (tests/reference/make_coco_fixtures.py).</summary>
public class CocoMaskTests
{
    private static JsonElement Fixture(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(FixturePaths.Fixture(name))).RootElement;

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static void AssertBox(JsonElement expected, CocoBox box) =>
        Assert.Equal(Doubles(expected), new[] { box.X, box.Y, box.Width, box.Height });

    [Fact]
    public void ThresholdsAreNumpysLinspaceValues()
    {
        var f = Fixture("coco_masks.json");
        Assert.Equal(Doubles(f.GetProperty("iou_thresholds")), EvaluationParams.IouThresholds);
        Assert.Equal(Doubles(f.GetProperty("recall_thresholds")), EvaluationParams.RecallThresholds);
        Assert.Equal(0.8999999999999999, EvaluationParams.IouThresholds[8]);
        Assert.Equal(0.35000000000000003, EvaluationParams.RecallThresholds[35]);
    }

    [Fact]
    public void EncodeStringAreaAndBoxMatchPycocotools()
    {
        foreach (var c in Fixture("coco_masks.json").GetProperty("rle").EnumerateArray())
        {
            int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
            byte[] rowMajor = c.GetProperty("mask").GetString()!.Select(ch => (byte)(ch - '0')).ToArray();
            var rle = Rle.FromRowMajor(rowMajor, h, w);
            string counts = c.GetProperty("counts").GetString()!;
            Assert.Equal(counts, rle.ToCompressedString());
            Assert.Equal(c.GetProperty("area").GetInt64(), rle.Area);
            AssertBox(c.GetProperty("bbox"), rle.ToBox());
            var back = Rle.FromCompressedString(counts, h, w);
            Assert.Equal(rowMajor, back.ToRowMajor());
            Assert.Equal(rle.Counts.ToArray(), Rle.FromColumnMajor(back.ToColumnMajor(), h, w).Counts.ToArray());
        }
    }

    [Fact]
    public void PolygonsAndBoxesRasteriseLikeFrPyObjects()
    {
        int n = 0;
        foreach (var c in Fixture("coco_masks.json").GetProperty("polygons").EnumerateArray())
        {
            int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
            Rle rle = c.TryGetProperty("polygon", out var p)
                ? Rle.FromPolygon(Doubles(p), h, w)
                : new PolygonSegmentation([Doubles(c.GetProperty("box"))]).ToRle(h, w);
            Assert.True(c.GetProperty("counts").GetString() == rle.ToCompressedString(), $"case {n}");
            Assert.Equal(c.GetProperty("area").GetInt64(), rle.Area);
            AssertBox(c.GetProperty("bbox"), rle.ToBox());
            n++;
        }
        Assert.True(n > 40);
    }

    [Fact]
    public void IouCrowdIouMergeAndBoxIouMatchPycocotools()
    {
        var f = Fixture("coco_masks.json").GetProperty("pairs");
        int h = f.GetProperty("height").GetInt32(), w = f.GetProperty("width").GetInt32();
        var masks = f.GetProperty("masks").EnumerateArray().Select(s => Rle.FromCompressedString(s.GetString()!, h, w)).ToArray();
        var iou = f.GetProperty("iou").EnumerateArray().Select(Doubles).ToArray();
        var crowd = f.GetProperty("iou_crowd").EnumerateArray().Select(Doubles).ToArray();
        for (int d = 0; d < masks.Length; d++)
            for (int g = 0; g < masks.Length; g++)
            {
                Assert.Equal(iou[d][g], Rle.Iou(masks[d], masks[g], false));
                Assert.Equal(crowd[d][g], Rle.Iou(masks[d], masks[g], true));
                long expected = 0;
                byte[] a = masks[d].ToColumnMajor(), b = masks[g].ToColumnMajor();
                for (int i = 0; i < a.Length; i++) expected += a[i] & b[i];
                Assert.Equal(expected, Rle.Intersection(masks[d], masks[g]));
            }
        Assert.Equal(f.GetProperty("union_of_first_4").GetString(), Rle.Merge(masks[..4]).ToCompressedString());
        Assert.Equal(f.GetProperty("intersection_of_first_2").GetString(), Rle.Merge(masks[..2], intersect: true).ToCompressedString());

        var boxes = f.GetProperty("boxes").EnumerateArray().Select(Doubles).Select(b => new CocoBox(b[0], b[1], b[2], b[3])).ToArray();
        var boxIou = f.GetProperty("box_iou").EnumerateArray().Select(Doubles).ToArray();
        var boxCrowd = f.GetProperty("box_iou_crowd").EnumerateArray().Select(Doubles).ToArray();
        for (int d = 0; d < boxes.Length; d++)
            for (int g = 0; g < boxes.Length; g++)
            {
                Assert.Equal(boxIou[d][g], Rle.BoxIou(boxes[d], boxes[g], false));
                Assert.Equal(boxCrowd[d][g], Rle.BoxIou(boxes[d], boxes[g], true));
            }
    }

    [Fact]
    public void CropEncodingEqualsFullEncoding()
    {
        var random = new Random(3);
        foreach (var (h, w, x0, y0, cw, ch) in new[] { (6, 5, 0, 0, 5, 6), (9, 7, 2, 0, 3, 9), (9, 7, 1, 3, 4, 2), (4, 4, 3, 3, 1, 1) })
        {
            var crop = new byte[cw * ch];
            for (int i = 0; i < crop.Length; i++) crop[i] = (byte)(random.Next(3) == 0 ? 0 : 1);
            var full = new byte[h * w];
            for (int y = 0; y < ch; y++)
                for (int x = 0; x < cw; x++) full[(y + y0) * w + x + x0] = crop[y * cw + x];
            Assert.Equal(Rle.FromRowMajor(full, h, w).Counts.ToArray(), Rle.FromCrop(crop, x0, y0, cw, ch, h, w).Counts.ToArray());
        }
    }

    [Fact]
    public void CompressedStringsRejectGarbage()
    {
        Assert.Throws<FormatException>(() => Rle.FromCompressedString("5 ", 2, 2));
        Assert.Throws<FormatException>(() => Rle.FromCompressedString("3", 2, 2)); // covers 3 of 4 pixels
    }

    /// <summary>
    /// Every annotation of the shared COCO files rasterises to exactly pycocotools' mask (hashed string,
    /// area, box). Crowd annotations are stored as uncompressed RLE whose area and box COCO computed from
    /// that same mask, so they must equal the stored values exactly. Polygon annotations store the
    /// polygon's geometric area and its vertex extremes, which differ from the rasterised mask's pixel
    /// count and pixel box by about a boundary's worth; those are checked against the polygon itself.
    /// </summary>
    [Fact]
    public void SharedCocoAnnotationsMatchPycocotools()
    {
        var expected = Fixture("coco_shared_annotations.json");
        foreach (var (key, file) in new[] { ("occl10", SharedData.Occl10), ("mini", SharedData.Mini) })
        {
            string? path = SharedData.File(file);
            if (path is null) return;
            var dataset = CocoJson.ReadDataset(path);
            var images = dataset.Images.ToDictionary(i => i.Id);
            var rows = expected.GetProperty(key).EnumerateArray().ToDictionary(r => r.GetProperty("id").GetInt64());
            Assert.Equal(rows.Count, dataset.Annotations.Count);
            int crowd = 0;
            foreach (var a in dataset.Annotations)
            {
                var image = images[a.ImageId];
                var rle = a.Segmentation!.ToRle(image.Height, image.Width);
                var row = rows[a.Id];
                string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(rle.ToCompressedString())))[..16];
                Assert.True(row.GetProperty("sha256").GetString() == hash, $"{key} annotation {a.Id}");
                Assert.Equal(row.GetProperty("area").GetInt64(), rle.Area);
                AssertBox(row.GetProperty("bbox"), rle.ToBox());
                var box = a.Box!.Value;
                if (a.IsCrowd)
                {
                    // COCO's crowd fields are not the mask's own: the stored box spans max − min (one pixel
                    // short of the mask's extent) and the stored area is at least the mask's pixel count.
                    crowd++;
                    var extent = rle.ToBox();
                    Assert.Equal(new CocoBox(extent.X, extent.Y, extent.Width - 1, extent.Height - 1), box);
                    Assert.True(a.Area!.Value >= rle.Area, $"crowd annotation {a.Id}: stored area {a.Area} below the mask's {rle.Area}");
                }
                else
                {
                    var polygons = ((PolygonSegmentation)a.Segmentation).Polygons;
                    double shoelace = polygons.Sum(Shoelace);
                    Assert.True(Math.Abs(shoelace - a.Area!.Value) <= 1e-6 * Math.Max(1, shoelace), $"annotation {a.Id}: polygon area {shoelace} vs stored {a.Area}");
                    double minX = polygons.Min(p => Enumerable.Range(0, p.Length / 2).Min(i => p[2 * i]));
                    double minY = polygons.Min(p => Enumerable.Range(0, p.Length / 2).Min(i => p[2 * i + 1]));
                    double maxX = polygons.Max(p => Enumerable.Range(0, p.Length / 2).Max(i => p[2 * i]));
                    double maxY = polygons.Max(p => Enumerable.Range(0, p.Length / 2).Max(i => p[2 * i + 1]));
                    // COCO rounds boxes to 2 decimals.
                    Assert.InRange(Math.Abs(minX - box.X), 0, 0.006);
                    Assert.InRange(Math.Abs(minY - box.Y), 0, 0.006);
                    Assert.InRange(Math.Abs(maxX - minX - box.Width), 0, 0.011);
                    Assert.InRange(Math.Abs(maxY - minY - box.Height), 0, 0.011);
                }
            }
            Assert.True(crowd > 0);
        }
    }

    private static double Shoelace(double[] p)
    {
        int n = p.Length / 2;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            int j = (i + 1) % n;
            s += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1];
        }
        return Math.Abs(s) / 2;
    }

    [Fact]
    public void DatasetAndResultsRoundTripThroughJson()
    {
        var dataset = new CocoDataset();
        dataset.Images.Add(new CocoImage(3, 5, 4, "a.png"));
        dataset.Categories.Add(new CocoCategory(1, "thing"));
        var mask = Rle.FromRowMajor([0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 4, 5);
        dataset.Annotations.Add(new CocoAnnotation
        {
            Id = 1, ImageId = 3, CategoryId = 1, Segmentation = new RleSegmentation(mask), Area = mask.Area, Box = mask.ToBox(),
            AmodalSegmentation = new RleSegmentation(mask, compressed: false), OccluderPolygons = [[0, 0, 1, 0, 1, 1, 0, 1]], Depth = 2,
        });
        using var temp = new TempFolder();
        using (var s = File.Create(temp.File("gt.json"))) CocoJson.WriteDataset(s, dataset);
        var back = CocoJson.ReadDataset(temp.File("gt.json"));
        var a = Assert.Single(back.Annotations);
        Assert.Equal(mask.Counts.ToArray(), ((RleSegmentation)a.Segmentation!).Mask.Counts.ToArray());
        Assert.False(((RleSegmentation)a.AmodalSegmentation!).Compressed);
        Assert.Equal(2, a.Depth);
        Assert.Equal(new double[] { 0, 0, 1, 0, 1, 1, 0, 1 }, Assert.Single(a.OccluderPolygons!));
        Assert.Equal(mask.ToBox(), a.Box);

        using (var s = File.Create(temp.File("res.json")))
            CocoJson.WriteResults(s, [new CocoAnnotation { ImageId = 3, CategoryId = 1, Segmentation = new RleSegmentation(mask), Score = 0.25 }]);
        var r = Assert.Single(CocoJson.ReadResults(temp.File("res.json")));
        Assert.Equal(0.25, r.Score);
        Assert.Equal(mask.ToCompressedString(), ((RleSegmentation)r.Segmentation!).Mask.ToCompressedString());
    }
}
