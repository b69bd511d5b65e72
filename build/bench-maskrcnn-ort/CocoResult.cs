using System.Text.Json.Serialization;

namespace BenchMaskRcnnOrt;

internal sealed record Segmentation([property: JsonPropertyName("size")] int[] Size, [property: JsonPropertyName("counts")] List<int> Counts);

/// <summary>One detection as COCO's results format has it (bbox as x, y, width, height).</summary>
internal sealed record CocoResult(
    [property: JsonPropertyName("image_id")] long ImageId,
    [property: JsonPropertyName("category_id")] int CategoryId,
    [property: JsonPropertyName("bbox")] float[] Bbox,
    [property: JsonPropertyName("score")] float Score,
    [property: JsonPropertyName("segmentation")] Segmentation Segmentation);

[JsonSerializable(typeof(List<CocoResult>))]
internal sealed partial class CocoResultJson : JsonSerializerContext;

/// <summary>COCO image ids are the numeric file names (000000000139.jpg is 139); other names are numbered 0, 1, ... in the order given.</summary>
internal static class ImageId
{
    private static long _next;

    public static long Of(string path) =>
        long.TryParse(Path.GetFileNameWithoutExtension(path), out long id) ? id : _next++;
}
