using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Checkpoints;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Fuzz.Targets;

namespace NativeSeg.Fuzz;

/// <summary>The public entry points a user's file reaches, each with the error type it documents for bad input.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        // CheckpointReader.Load: torch.save zips, detectron2 pickles, mmcv checkpoints, through the allow-list unpickler.
        new("pickle-zip", input => CheckpointReader.Load(ScratchFile.Write(input, "checkpoint.pth")).Dispose(),
            e => e is CheckpointFormatException),
        // Opening validates the header; every tensor is then copied out as the model loader does.
        new("safetensors", input =>
        {
            using var file = SafetensorsFile.Open(ScratchFile.Write(input, "weights.safetensors"));
            foreach (var tensor in file.LoadAll().Values) tensor.Dispose();
        }, e => e is FileFormatException),
        // The decoders ImageFile.Read calls by signature: libspng, and TurboJPEG with the EXIF orientation applied.
        new("png", input => Png.Decode(input, "input.png", FuzzImageLimits.Value), e => e is FileFormatException),
        new("jpeg", input => Jpeg.Decode(input, "input.jpg", FuzzImageLimits.Value), e => e is FileFormatException),
        new("coco-annotations", CocoReads.Annotations, e => e is CocoFormatException),
        new("coco-results", CocoReads.Results, e => e is CocoFormatException),
        new("rle", RleProperties.Check, e => e is FormatException),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
