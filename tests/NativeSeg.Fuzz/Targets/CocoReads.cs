using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Fuzz.Targets;

/// <summary>The COCO readers, then every mask as evaluation and training make it from what they read.</summary>
internal static class CocoReads
{
    public static void Annotations(byte[] input)
    {
        var dataset = CocoJson.ReadDataset(ScratchFile.Write(input, "instances.json"));
        var images = dataset.Images.GroupBy(i => i.Id).ToDictionary(g => g.Key, g => g.First());
        foreach (var annotation in dataset.Annotations)
            if (annotation.Segmentation is { } segmentation && images.TryGetValue(annotation.ImageId, out var image))
                CocoMasks.Use(segmentation, image.Height, image.Width);
    }

    /// <summary>Results carry no image size; masks are made on a 480x640 image.</summary>
    public static void Results(byte[] input)
    {
        foreach (var result in CocoJson.ReadResults(ScratchFile.Write(input, "results.json")))
        {
            if (result.Segmentation is { } segmentation) CocoMasks.Use(segmentation, 480, 640);
            else if (result.Box is { } box) CocoMasks.Use(new PolygonSegmentation([[box.X, box.Y, box.Width, box.Height]]), 480, 640);
        }
    }
}
