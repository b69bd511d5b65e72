using System.Text.Json;
using NativeSeg.Engine.Formats.Json;
using static NativeSeg.Engine.Formats.Coco.CocoJsonValues;

namespace NativeSeg.Engine.Formats.Coco;

/// <summary>
/// Reads and writes COCO instance annotations and detection results. JsonDocument and Utf8JsonWriter
/// need no reflection, so trimmed builds keep working.
/// </summary>
public static class CocoJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    public static CocoDataset ReadDataset(string path)
    {
        using var document = Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new CocoFormatException($"{path}: expected a JSON object with images, annotations and categories");
        var dataset = new CocoDataset();
        foreach (var image in Array(root, "images", path))
        {
            string where = $"{path}: images[{dataset.Images.Count}]";
            dataset.Images.Add(new CocoImage(
                Int64(image, "id", where), (int)Int64(image, "width", where), (int)Int64(image, "height", where),
                Located(where, () => image.TryGetProperty("file_name", out var f) && f.ValueKind == JsonValueKind.String ? AsText(f, "file_name") : "")));
        }
        foreach (var category in Array(root, "categories", path))
        {
            string where = $"{path}: categories[{dataset.Categories.Count}]";
            dataset.Categories.Add(new CocoCategory(
                Int64(category, "id", where), String(category, "name", where),
                Located(where, () => category.TryGetProperty("supercategory", out var s) && s.ValueKind == JsonValueKind.String ? AsText(s, "supercategory") : null)));
        }
        if (root.TryGetProperty("annotations", out var annotations))
        {
            if (annotations.ValueKind != JsonValueKind.Array) throw new CocoFormatException($"{path}: 'annotations' is not an array");
            foreach (var element in annotations.EnumerateArray())
            {
                string where = $"{path}: annotations[{dataset.Annotations.Count}]";
                var annotation = ReadAnnotation(element, where);
                annotation.Id = Int64(element, "id", where);
                annotation.IsCrowd = element.TryGetProperty("iscrowd", out var crowd) && crowd.ValueKind == JsonValueKind.Number && crowd.GetDouble() != 0;
                dataset.Annotations.Add(annotation);
            }
        }
        return dataset;
    }

    /// <summary>
    /// A results file: a JSON array of {image_id, category_id, score, segmentation and/or bbox}. Ids and
    /// areas are left unset; evaluation assigns them the way pycocotools' loadRes does.
    /// </summary>
    public static List<CocoAnnotation> ReadResults(string path)
    {
        using var document = Parse(path, NonFiniteScore);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array) throw new CocoFormatException($"{path}: a results file is a JSON array of detections");
        var results = new List<CocoAnnotation>(root.GetArrayLength());
        foreach (var element in root.EnumerateArray()) results.Add(ReadResult(element, $"{path}: result [{results.Count}]"));
        return results;
    }

    /// <summary>One detection of a results file; <paramref name="where"/> names it in errors.</summary>
    public static CocoAnnotation ReadResult(JsonElement element, string where)
    {
        var result = ReadAnnotation(element, where);
        result.Score = Number(element, "score", where);
        return result;
    }

    /// <param name="explain">Given the bytes that failed to parse, a clearer reason than the parser's, or null.</param>
    private static JsonDocument Parse(string path, Func<byte[], string?>? explain = null)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return StrictJson.Parse(bytes, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new CocoFormatException($"{path}: {explain?.Invoke(bytes) ?? $"not valid JSON ({e.Message})"}", e);
        }
    }

    private static readonly string[] NonFiniteLiterals = ["NaN", "Infinity", "-Infinity"];

    /// <summary>
    /// Python's json.dump writes a NaN or infinite score as a bare NaN or Infinity, which JSON does not
    /// have. With those quoted, the file parses if they were its only fault; then name the first result
    /// whose score is one.
    /// </summary>
    private static string? NonFiniteScore(byte[] bytes)
    {
        try
        {
            using var document = StrictJson.Parse(QuoteNonFiniteLiterals(bytes), DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Array) return null;
            int index = 0;
            foreach (var result in document.RootElement.EnumerateArray())
            {
                if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("score", out var score)
                    && score.ValueKind == JsonValueKind.String && NonFiniteLiterals.FirstOrDefault(score.ValueEquals) is { } literal)
                    return $"result {index} has score {literal}";
                index++;
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The bytes with every NaN, Infinity and -Infinity outside strings turned into a string.</summary>
    private static byte[] QuoteNonFiniteLiterals(byte[] bytes)
    {
        var quoted = new List<byte>(bytes.Length + 16);
        bool inString = false;
        for (int i = 0; i < bytes.Length; i++)
        {
            byte b = bytes[i];
            if (inString)
            {
                quoted.Add(b);
                if (b == (byte)'\\' && i + 1 < bytes.Length) quoted.Add(bytes[++i]);
                else if (b == (byte)'"') inString = false;
                continue;
            }
            string? literal = NonFiniteLiterals.FirstOrDefault(l => bytes.AsSpan(i).StartsWith(System.Text.Encoding.ASCII.GetBytes(l)));
            if (literal is not null)
            {
                quoted.Add((byte)'"');
                quoted.AddRange(System.Text.Encoding.ASCII.GetBytes(literal));
                quoted.Add((byte)'"');
                i += literal.Length - 1;
                continue;
            }
            if (b == (byte)'"') inString = true;
            quoted.Add(b);
        }
        return [.. quoted];
    }

    private static CocoAnnotation ReadAnnotation(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new CocoFormatException($"{where}: expected an object");
        var a = new CocoAnnotation
        {
            ImageId = Int64(e, "image_id", where),
            CategoryId = Int64(e, "category_id", where),
        };
        return Located(where, () =>
        {
            if (e.TryGetProperty("segmentation", out var s)) a.Segmentation = ReadSegmentation(s);
            if (e.TryGetProperty("amodal_segmentation", out var amodal)) a.AmodalSegmentation = ReadSegmentation(amodal);
            if (e.TryGetProperty("bg_object_segmentation", out var bg)) a.OccluderPolygons = ReadPolygons(bg);
            if (e.TryGetProperty("area", out var area) && area.ValueKind == JsonValueKind.Number) a.Area = AsNumber(area, "area");
            if (e.TryGetProperty("bbox", out var box) && box.ValueKind == JsonValueKind.Array && box.GetArrayLength() > 0)
            {
                if (box.GetArrayLength() != 4) throw new FormatException("bbox must have 4 numbers");
                a.Box = new CocoBox(AsNumber(box[0], "bbox"), AsNumber(box[1], "bbox"), AsNumber(box[2], "bbox"), AsNumber(box[3], "bbox"));
            }
            if (e.TryGetProperty("depth", out var depth) && depth.ValueKind == JsonValueKind.Number) a.Depth = AsInt32(depth, "depth");
            return a;
        });
    }

    /// <summary>Runs a read of an entry's fields, prefixing a FormatException's message with the file and entry.</summary>
    private static T Located<T>(string where, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (FormatException ex) when (ex is not CocoFormatException)
        {
            throw new CocoFormatException($"{where}: {ex.Message}", ex);
        }
    }

    private static CocoSegmentation ReadSegmentation(JsonElement s)
    {
        if (s.ValueKind == JsonValueKind.Array) return new PolygonSegmentation(ReadPolygons(s));
        if (s.ValueKind != JsonValueKind.Object) throw new FormatException("segmentation is neither polygons nor RLE");
        if (!s.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Array || size.GetArrayLength() != 2)
            throw new FormatException("RLE segmentation needs 'size': [height, width]");
        if (!s.TryGetProperty("counts", out var counts)) throw new FormatException("RLE segmentation needs 'counts'");
        int h = AsInt32(size[0], "size"), w = AsInt32(size[1], "size");
        if (h < 0 || w < 0) throw new FormatException($"RLE size [{h}, {w}] is negative");
        if (counts.ValueKind == JsonValueKind.String) return new RleSegmentation(Rle.FromCompressedString(AsText(counts, "counts"), h, w));
        if (counts.ValueKind != JsonValueKind.Array) throw new FormatException("RLE 'counts' is neither a string nor a list");
        var values = new uint[counts.GetArrayLength()];
        int i = 0;
        foreach (var c in counts.EnumerateArray()) values[i++] = AsUInt32(c, "counts");
        return new RleSegmentation(new Rle(h, w, values), compressed: false);
    }

    private static List<double[]> ReadPolygons(JsonElement s)
    {
        if (s.ValueKind != JsonValueKind.Array) throw new FormatException("expected a list of polygons");
        var polygons = new List<double[]>(s.GetArrayLength());
        foreach (var p in s.EnumerateArray())
        {
            if (p.ValueKind != JsonValueKind.Array) throw new FormatException("a polygon must be a list of numbers");
            var xy = new double[p.GetArrayLength()];
            int i = 0;
            foreach (var v in p.EnumerateArray()) xy[i++] = AsNumber(v, "polygon");
            polygons.Add(xy);
        }
        return polygons;
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement root, string name, string path) =>
        Required(root, name, JsonValueKind.Array, path).EnumerateArray();

    private static long Int64(JsonElement e, string name, string where)
    {
        var v = Required(e, name, JsonValueKind.Number, where);
        if (v.TryGetInt64(out long l)) return l;
        double d = Located(where, () => AsNumber(v, name));
        if (d != Math.Floor(d)) throw new CocoFormatException($"{where}: '{name}' = {d} is not an integer");
        return (long)d;
    }

    private static double Number(JsonElement e, string name, string where) =>
        Located(where, () => AsNumber(Required(e, name, JsonValueKind.Number, where), name));

    private static string String(JsonElement e, string name, string where) =>
        Located(where, () => AsText(Required(e, name, JsonValueKind.String, where), name));

    private static JsonElement Required(JsonElement e, string name, JsonValueKind kind, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new CocoFormatException($"{where}: expected an object, found {e.ValueKind.ToString().ToLowerInvariant()}");
        if (e.TryGetProperty(name, out var v) && v.ValueKind == kind) return v;
        throw new CocoFormatException(kind switch
        {
            JsonValueKind.Number => $"{where}: missing numeric '{name}'",
            JsonValueKind.String => $"{where}: missing string '{name}'",
            _ => $"{where}: missing the '{name}' array",
        });
    }

    public static void WriteDataset(Stream stream, CocoDataset dataset)
    {
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        w.WriteStartArray("images");
        foreach (var image in dataset.Images)
        {
            w.WriteStartObject();
            w.WriteNumber("id", image.Id);
            w.WriteString("file_name", image.FileName);
            w.WriteNumber("width", image.Width);
            w.WriteNumber("height", image.Height);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("categories");
        foreach (var category in dataset.Categories)
        {
            w.WriteStartObject();
            w.WriteNumber("id", category.Id);
            w.WriteString("name", category.Name);
            if (category.Supercategory is { } s) w.WriteString("supercategory", s);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("annotations");
        foreach (var a in dataset.Annotations)
        {
            w.WriteStartObject();
            w.WriteNumber("id", a.Id);
            WriteAnnotationBody(w, a);
            w.WriteNumber("iscrowd", a.IsCrowd ? 1 : 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Writes detections in the results format pycocotools' loadRes reads.</summary>
    public static void WriteResults(Stream stream, IEnumerable<CocoAnnotation> results)
    {
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartArray();
        foreach (var r in results)
        {
            w.WriteStartObject();
            WriteAnnotationBody(w, r);
            w.WriteNumber("score", r.Score ?? throw new ArgumentException("a detection result needs a score"));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteAnnotationBody(Utf8JsonWriter w, CocoAnnotation a)
    {
        w.WriteNumber("image_id", a.ImageId);
        w.WriteNumber("category_id", a.CategoryId);
        if (a.Segmentation is { } s) { w.WritePropertyName("segmentation"); WriteSegmentation(w, s); }
        if (a.Area is { } area) w.WriteNumber("area", area);
        if (a.Box is { } b)
        {
            w.WriteStartArray("bbox");
            w.WriteNumberValue(b.X); w.WriteNumberValue(b.Y); w.WriteNumberValue(b.Width); w.WriteNumberValue(b.Height);
            w.WriteEndArray();
        }
        if (a.AmodalSegmentation is { } amodal) { w.WritePropertyName("amodal_segmentation"); WriteSegmentation(w, amodal); }
        if (a.OccluderPolygons is { } occluders) { w.WritePropertyName("bg_object_segmentation"); WritePolygons(w, occluders); }
        if (a.Depth is { } depth) w.WriteNumber("depth", depth);
    }

    private static void WriteSegmentation(Utf8JsonWriter w, CocoSegmentation s)
    {
        switch (s)
        {
            case PolygonSegmentation p:
                WritePolygons(w, p.Polygons);
                break;
            case RleSegmentation r:
                w.WriteStartObject();
                w.WriteStartArray("size");
                w.WriteNumberValue(r.Mask.Height); w.WriteNumberValue(r.Mask.Width);
                w.WriteEndArray();
                if (r.Compressed) w.WriteString("counts", r.Mask.ToCompressedString());
                else
                {
                    w.WriteStartArray("counts");
                    foreach (uint c in r.Mask.Counts) w.WriteNumberValue(c);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                break;
            default:
                throw new ArgumentException($"unknown segmentation type {s.GetType().Name}");
        }
    }

    private static void WritePolygons(Utf8JsonWriter w, IReadOnlyList<double[]> polygons)
    {
        w.WriteStartArray();
        foreach (double[] p in polygons)
        {
            w.WriteStartArray();
            foreach (double v in p) w.WriteNumberValue(v);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }
}
