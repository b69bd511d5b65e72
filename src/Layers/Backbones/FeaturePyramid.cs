using NativeSeg.Engine.Tensors;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// FPN outputs P2..P6 (stride 2^level), each [N, C, H, W] on the model's device; owns them.
/// </summary>
public sealed class FeaturePyramid : IDisposable
{
    public const int MinLevel = 2;

    private readonly Tensor[] _maps;

    /// <summary>Takes ownership of <paramref name="maps"/>, ordered from level <see cref="MinLevel"/> up.</summary>
    public FeaturePyramid(Tensor[] maps)
    {
        if (maps.Length == 0) throw new ArgumentException("feature pyramid: no levels");
        _maps = maps;
    }

    public int MaxLevel => MinLevel + _maps.Length - 1;

    /// <summary>The maps from P2 up, as RPN and RoIAlign take them.</summary>
    public IReadOnlyList<Tensor> Maps => _maps;

    /// <summary>P<paramref name="level"/>.</summary>
    public Tensor this[int level] => level >= MinLevel && level <= MaxLevel
        ? _maps[level - MinLevel]
        : throw new ArgumentOutOfRangeException(nameof(level), $"feature pyramid: level {level} outside P{MinLevel}..P{MaxLevel}");

    public static int Stride(int level) => 1 << level;

    public void Dispose()
    {
        foreach (var map in _maps) map.Dispose();
    }
}
