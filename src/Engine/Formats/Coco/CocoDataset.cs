namespace NativeSeg.Engine.Formats.Coco;

/// <summary>A COCO file that does not hold what the format requires; the message names the file and the entry.</summary>
public sealed class CocoFormatException(string message, Exception? inner = null) : FormatException(message, inner);

public sealed record CocoImage(long Id, int Width, int Height, string FileName);

public sealed record CocoCategory(long Id, string Name, string? Supercategory = null);

/// <summary>
/// An instance outline in one of COCO's three encodings. Polygons need the image size to become a mask;
/// compressed and uncompressed RLE carry their own.
/// </summary>
public abstract class CocoSegmentation
{
    /// <summary>annToRLE: the mask pycocotools evaluates for this segmentation on an image of the given size.</summary>
    public abstract Rle ToRle(int imageHeight, int imageWidth);
}

/// <summary>
/// One or more polygons (x0, y0, x1, y1, …), united. As in pycocotools' frPyObjects, a list whose first
/// entry has exactly four numbers is a list of [x, y, w, h] boxes instead.
/// </summary>
public sealed class PolygonSegmentation(IReadOnlyList<double[]> polygons) : CocoSegmentation
{
    public IReadOnlyList<double[]> Polygons { get; } = polygons;

    public bool IsBoxList => Polygons.Count > 0 && Polygons[0].Length == 4;

    public override Rle ToRle(int imageHeight, int imageWidth)
    {
        if (Polygons.Count == 0) throw new FormatException("an empty polygon list has no mask (pycocotools cannot read it either)");
        var parts = new List<Rle>(Polygons.Count);
        foreach (double[] p in Polygons)
        {
            if (IsBoxList)
            {
                if (p.Length != 4) throw new FormatException($"a box list (first entry has 4 numbers) has an entry with {p.Length}");
                parts.Add(Rle.FromBox(new CocoBox(p[0], p[1], p[2], p[3]), imageHeight, imageWidth));
            }
            else
            {
                if (Polygons[0].Length < 4) throw new FormatException($"a polygon with {Polygons[0].Length} numbers is neither a polygon nor a box");
                parts.Add(Rle.FromPolygon(p, imageHeight, imageWidth));
            }
        }
        return Rle.Merge(parts);
    }
}

/// <summary>A run-length mask; <see cref="Compressed"/> records which of COCO's two spellings the file used.</summary>
public sealed class RleSegmentation(Rle mask, bool compressed = true) : CocoSegmentation
{
    public Rle Mask { get; } = mask;
    public bool Compressed { get; } = compressed;

    public override Rle ToRle(int imageHeight, int imageWidth) => Mask;
}

/// <summary>
/// A ground-truth annotation or, with <see cref="Score"/> set, a detection result. The optional
/// fields are the extensions NativeSeg reads and writes: amodal masks, BCNet's occluder polygons and
/// the synthetic generator's depth order.
/// </summary>
public sealed class CocoAnnotation
{
    public long Id { get; set; }
    public long ImageId { get; set; }
    public long CategoryId { get; set; }
    public CocoSegmentation? Segmentation { get; set; }
    public double? Area { get; set; }
    public CocoBox? Box { get; set; }
    public bool IsCrowd { get; set; }
    public double? Score { get; set; }
    public CocoSegmentation? AmodalSegmentation { get; set; }

    /// <summary>BCNet's `bg_object_segmentation`: polygons of the other objects inside this one's box; empty when none.</summary>
    public IReadOnlyList<double[]>? OccluderPolygons { get; set; }

    /// <summary>Drawing order, 0 = farthest from the camera.</summary>
    public int? Depth { get; set; }
}

public sealed class CocoDataset
{
    public List<CocoImage> Images { get; } = [];
    public List<CocoCategory> Categories { get; } = [];
    public List<CocoAnnotation> Annotations { get; } = [];
}
