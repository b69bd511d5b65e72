using System.Text;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Coco;

/// <summary>
/// Inputs the fuzz harness (tests/NativeSeg.Fuzz) found crashing the COCO readers, minimised, and the
/// values of other kinds that reached the same JsonElement getters: each must be a CocoFormatException
/// naming the file, the entry and the field.
/// </summary>
public class HostileCocoInputTests
{
    private const string Image = """{"id": 1, "width": 8, "height": 6, "file_name": "a.jpg"}""";
    private const string Category = """{"id": 1, "name": "person"}""";

    private static string Dataset(string image, string annotation) =>
        $$"""{"images": [{{image}}], "categories": [{{Category}}], "annotations": [{{annotation}}]}""";

    private static string Annotation(string fields) => $$"""{"id": 1, "image_id": 1, "category_id": 1, {{fields}}}""";

    public static TheoryData<string, string> BadAnnotationFiles => new()
    {
        // Found by the coco-annotations target: an RLE string with bytes that are not UTF-8.
        { Dataset(Image, Annotation("\"segmentation\": {\"size\": [6, 8], \"counts\": \"0\xff\"}")), "annotations[0]: 'counts' is not valid UTF-8 text" },
        { Dataset(Image, Annotation("\"segmentation\": [[1, 2, \"3\", 4, 5, 6]]")), "annotations[0]: 'polygon' is string, not a number" },
        { Dataset(Image, Annotation("\"segmentation\": {\"size\": [6, \"8\"], \"counts\": \"06\"}")), "annotations[0]: 'size' is string, not an integer" },
        { Dataset(Image, Annotation("\"segmentation\": {\"size\": [-6, 8], \"counts\": \"\"}")), "annotations[0]: RLE size [-6, 8] is negative" },
        { Dataset(Image, Annotation("\"segmentation\": {\"size\": [6, 1e10], \"counts\": \"\"}")), "annotations[0]: 'size' = 1e10 is not a 32-bit integer" },
        { Dataset(Image, Annotation("\"segmentation\": {\"size\": [6, 8], \"counts\": [48, -1]}")), "annotations[0]: 'counts' = -1 is not an unsigned 32-bit integer" },
        { Dataset(Image, Annotation("\"bbox\": [1, 2, null, 4]")), "annotations[0]: 'bbox' is null, not a number" },
        { Dataset(Image, Annotation("\"area\": 1e999")), "annotations[0]: 'area' = 1e999 is out of range" },
        { Dataset("7", Annotation("\"area\": 1")), "images[0]: expected an object, found number" },
        { Dataset("{\"id\": 1, \"width\": 8, \"height\": 6, \"file_name\": \"a\xfe.jpg\"}", Annotation("\"area\": 1")), "images[0]: 'file_name' is not valid UTF-8 text" },
    };

    [Theory]
    [MemberData(nameof(BadAnnotationFiles))]
    public void AnnotationFileErrorsNameTheFileEntryAndField(string json, string expected) =>
        AssertRefused(json, path => CocoJson.ReadDataset(path), expected);

    [Theory]
    [InlineData("[{\"image_id\": 1, \"category_id\": 1, \"score\": \"NaN\xff\", \"bbox\": [0, 0, 1, 1]}]", "result [0]: missing numeric 'score'")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "score": 1e400, "bbox": [0, 0, 1, 1]}]""", "result [0]: 'score' = 1e400 is out of range")]
    [InlineData("[{\"image_id\": 1, \"category_id\": 1, \"score\": \"\xff\"}, {\"image_id\": 1, \"category_id\": 1, \"score\": NaN}]", "result 1 has score NaN")]
    public void ResultFileErrorsNameTheFileAndResult(string json, string expected) =>
        AssertRefused(json, path => CocoJson.ReadResults(path), expected);

    /// <summary>
    /// Found by the coco-results target: System.Text.Json parses an escaped unpaired surrogate in a name and only
    /// throws InvalidOperationException when a later property lookup compares names; in a dataset's strings it is the same.
    /// </summary>
    [Theory]
    [InlineData("""[{"image_id": 1, "\uDC00category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1]}]""")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1], "note": "\ud800x"}]""")]
    public void AResultFileWithAnUnpairedSurrogateEscapeIsRefusedAsJson(string json) =>
        AssertRefused(json, path => CocoJson.ReadResults(path),
            "not valid JSON (a name or string escapes an unpaired UTF-16 surrogate)");

    [Fact]
    public void ADatasetWithAnUnpairedSurrogateEscapeInAFileNameIsRefusedAsJson()
    {
        using var temp = new TempFolder();
        string path = temp.File("coco.json");
        File.WriteAllText(path, Dataset("""{"id": 1, "width": 8, "height": 6, "file_name": "a\uDBFF.jpg"}""", Annotation("\"area\": 1")));
        var e = Assert.Throws<CocoFormatException>(() => CocoJson.ReadDataset(path));
        Assert.Equal($"{path}: not valid JSON (a name or string escapes an unpaired UTF-16 surrogate)", e.Message);
    }

    /// <param name="json">Latin-1 text, so that a char up to \xff stands for one byte, valid UTF-8 or not.</param>
    private static void AssertRefused(string json, Action<string> read, string expected)
    {
        using var temp = new TempFolder();
        string path = temp.File("coco.json");
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(json));
        var e = Assert.Throws<CocoFormatException>(() => read(path));
        Assert.Equal($"{path}: {expected}", e.Message);
    }

    [Theory]
    // Found probing the coco-results target: the first overflowed Math.Abs on the upsampled grid, the second
    // took 500 MB and 8 s for a 60-byte file (ten times the coordinate, ten times both).
    [InlineData(new[] { -1e10, 0, 0, 0, 0, 5 }, "polygon coordinate -10000000000 is outside ±66816, the range allowed on a 640x480 image")]
    [InlineData(new[] { 0, 0, 3e6, 0, 3e6, 5 }, "polygon coordinate 3000000 is outside ±66816, the range allowed on a 640x480 image")]
    [InlineData(new[] { 0, 0, double.NaN, 0, 4, 5 }, "polygon coordinate NaN is outside ±66816, the range allowed on a 640x480 image")]
    public void PolygonFarOutsideTheImageIsRefused(double[] polygon, string expected)
    {
        var e = Assert.Throws<FormatException>(() => new PolygonSegmentation([polygon]).ToRle(480, 640));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void PolygonWithinAnImageSizeOfTheImageIsRasterised()
    {
        // Inside the limit the rasterisation is pycocotools': only the part over the image is set.
        var mask = Rle.FromPolygon([-1280, 2, 1919, 2, 1919, 4, -1280, 4], 480, 640);
        Assert.Equal(new CocoBox(0, 2, 640, 2), mask.ToBox());
        Assert.Equal(640 * 2, mask.Area);
    }

    [Fact]
    public void MaskTooLargeForRleCountsIsRefused()
    {
        var e = Assert.Throws<FormatException>(() => Rle.FromBox(new CocoBox(0, 0, 1, 1), 70000, 70000));
        Assert.Equal("a 70000x70000 mask has more pixels than RLE counts can hold", e.Message);
    }

    [Theory]
    // Found by the rle target: a mask of zero height divided by its height.
    [InlineData(0, 0, "00")]
    [InlineData(0, 4, "0000")]
    public void MaskWithoutRowsHasAnEmptyBox(int height, int width, string counts)
    {
        var mask = Rle.FromCompressedString(counts, height, width);
        Assert.Equal(new CocoBox(0, 0, 0, 0), mask.ToBox());
        Assert.Equal(0, mask.Area);
    }
}
