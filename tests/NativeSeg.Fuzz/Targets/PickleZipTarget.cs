using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Checkpoints;

namespace NativeSeg.Fuzz.Targets;

/// <summary>CheckpointReader.Load: torch.save zips, detectron2 pickles, mmcv checkpoints, through the allow-list unpickler.</summary>
public sealed class PickleZipTarget : FuzzTarget
{
    public override string Name => "pickle-zip";

    protected override void Read(byte[] input)
    {
        using var weights = CheckpointReader.Load(ScratchFile.Write(input, "checkpoint.pth"));
    }

    protected override bool IsCleanError(Exception e) => e is CheckpointFormatException;
}
