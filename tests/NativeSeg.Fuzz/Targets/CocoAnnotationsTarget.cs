using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Fuzz.Targets;

/// <summary>CocoJson.ReadDataset, then every annotation's mask on its image as evaluation and training make it.</summary>
public sealed class CocoAnnotationsTarget : FuzzTarget
{
    public override string Name => "coco-annotations";

    protected override void Read(byte[] input)
    {
        var dataset = CocoJson.ReadDataset(ScratchFile.Write(input, "instances.json"));
        var images = dataset.Images.GroupBy(i => i.Id).ToDictionary(g => g.Key, g => g.First());
        foreach (var annotation in dataset.Annotations)
            if (annotation.Segmentation is { } segmentation && images.TryGetValue(annotation.ImageId, out var image))
                CocoMasks.Use(segmentation, image.Height, image.Width);
    }

    protected override bool IsCleanError(Exception e) => e is CocoFormatException;
}
