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
