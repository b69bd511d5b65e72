namespace NativeSeg.Models.Conversion;

/// <summary>What a converted weights file must contain for one model configuration.</summary>
public interface IArchitecture
{
    /// <summary>The name written to the converted file's metadata and accepted by <c>nativeseg convert --arch</c>.</summary>
    string Name { get; }

    /// <summary>Every tensor the model needs, in registration order, with its shape.</summary>
    IReadOnlyDictionary<string, int[]> ExpectedKeys { get; }

    /// <summary>The configuration the weights belong to, as JSON, stored next to them.</summary>
    string ConfigJson { get; }

    /// <summary>The model's name for a checkpoint key, or null to drop the key (e.g. training-only state).</summary>
    string? MapKey(string checkpointKey);
}
