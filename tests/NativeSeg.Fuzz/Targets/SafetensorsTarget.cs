using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Safetensors;

namespace NativeSeg.Fuzz.Targets;

/// <summary>SafetensorsFile.Open validates the header; every tensor is then copied out as the model loader does.</summary>
public sealed class SafetensorsTarget : FuzzTarget
{
    public override string Name => "safetensors";

    protected override void Read(byte[] input)
    {
        using var file = SafetensorsFile.Open(ScratchFile.Write(input, "weights.safetensors"));
        foreach (var tensor in file.LoadAll().Values) tensor.Dispose();
    }

    protected override bool IsCleanError(Exception e) => e is FileFormatException;
}
