using NativeSeg.Kernels.BoundaryPatches;
using NativeSeg.Layers.Backbones;

namespace NativeSeg.Models.Bpr;

/// <summary>
/// A BPR model's fixed settings (tinyalpha/BPR configs/bpr/hrnet18s_128.py and hrnet48_256.py, tools/inference_coco.sh):
/// 64-pixel patches kept by NMS at IoU 0.25, resized to the network's input side, ImageNet normalisation on the
/// 0–255 RGB scale.
/// </summary>
public sealed record BprConfig(string Architecture, HrNetConfig Backbone, int InputSize, string KeyList)
{
    public const int DefaultPatchSize = 64;

    public const float DefaultIouThreshold = 0.25f;

    public static BprConfig Hr18s { get; } = new("bpr-hr18s", HrNetConfig.W18Small, 128, "keys_hr18s.txt");

    public static BprConfig Hr48 { get; } = new("bpr-hr48", HrNetConfig.W48, 256, "keys_hr48.txt");

    public static IReadOnlyList<BprConfig> All { get; } = [Hr18s, Hr48];

    public static PatchNormalization Normalization { get; } = new([123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

    public int PatchSize { get; init; } = DefaultPatchSize;

    public float IouThreshold { get; init; } = DefaultIouThreshold;

    /// <summary>Patches per network call: bounds the input batch (4·InputSize² floats a patch) and the activations.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The configuration named <paramref name="architecture"/> (bpr-hr18s or bpr-hr48).</summary>
    public static BprConfig Named(string architecture) =>
        All.FirstOrDefault(c => c.Architecture == architecture)
        ?? throw new ArgumentException($"unknown BPR architecture '{architecture}'; known: {string.Join(", ", All.Select(c => c.Architecture))}");
}
