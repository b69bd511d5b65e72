using System.Text.Json;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Rendering;

/// <summary>One image's instances as COCO results records (the objects of a results file's array).</summary>
internal static class CocoResultRecords
{
    public static void Write(Utf8JsonWriter json, long imageId, string fileName, IReadOnlyList<SegmentedInstance> instances)
    {
        foreach (var i in instances)
        {
            json.WriteStartObject();
            json.WriteNumber("image_id", imageId);
            json.WriteString("file_name", fileName);
            json.WriteNumber("category_id", i.CategoryId);
            json.WriteStartArray("bbox");
            foreach (float v in new[] { i.X1, i.Y1, i.X2 - i.X1, i.Y2 - i.Y1 }) json.WriteNumberValue(Math.Round((double)v, 2));
            json.WriteEndArray();
            // The mask score: equal to the box score for Mask R-CNN, rescored by MS R-CNN's MaskIoU head.
            json.WriteNumber("score", Math.Round((double)i.MaskScore, 5));
            json.WriteStartObject("segmentation");
            json.WriteStartArray("size");
            json.WriteNumberValue(i.Mask.Height);
            json.WriteNumberValue(i.Mask.Width);
            json.WriteEndArray();
            json.WriteString("counts", i.Mask.ToCompressedString());
            json.WriteEndObject();
            json.WriteEndObject();
        }
    }
}
