using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Fuzz.Targets;

/// <summary>CocoJson.ReadResults, then every result's mask as evaluation makes it on a 480x640 image.</summary>
public sealed class CocoResultsTarget : FuzzTarget
{
    public override string Name => "coco-results";

    protected override void Read(byte[] input)
    {
        foreach (var result in CocoJson.ReadResults(ScratchFile.Write(input, "results.json")))
        {
            if (result.Segmentation is { } segmentation) CocoMasks.Use(segmentation, 480, 640);
            else if (result.Box is { } box) CocoMasks.Use(new PolygonSegmentation([[box.X, box.Y, box.Width, box.Height]]), 480, 640);
        }
    }

    protected override bool IsCleanError(Exception e) => e is CocoFormatException;
}
