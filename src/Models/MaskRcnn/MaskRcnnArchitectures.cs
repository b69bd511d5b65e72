using System.Globalization;
using System.Text.Json.Nodes;
using NativeSeg.Layers.Backbones;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>A runnable Mask R-CNN: backbone, preprocessing and head settings that belong together.</summary>
public sealed record MaskRcnnSetup(string Architecture, MaskRcnnConfig Heads, BackboneConfig Backbone, PreprocessConfig Preprocess);

/// <summary>
/// The Mask R-CNN architecture names a converted file's "architecture" metadata may carry, and the optional
/// "config" JSON overrides (min_size, max_size, score_thresh, norm_eps) that upstream configs expose too.
/// </summary>
public static class MaskRcnnArchitectures
{
    public const string Detectron2 = "maskrcnn_R_50_FPN_detectron2";
    public const string Torchvision = "maskrcnn_resnet50_fpn_torchvision";
    public const string MsRcnn = "msrcnn_R_50_FPN";

    public static IReadOnlyList<string> Names { get; } = [Detectron2, Torchvision, MsRcnn];

    public static bool Knows(string? architecture) => architecture is not null && Names.Contains(architecture);

    /// <summary>The setup for a converted file's metadata; throws when it is not a Mask R-CNN.</summary>
    public static MaskRcnnSetup FromMetadata(IReadOnlyDictionary<string, string> metadata, string file)
    {
        if (!metadata.TryGetValue("architecture", out var name))
            throw new NotSupportedException($"{file} has no 'architecture' in its metadata; convert checkpoints with `nativeseg convert`");
        if (!Knows(name))
            throw new NotSupportedException($"{file} holds a '{name}' model; this runner takes Mask R-CNN ({string.Join(", ", Names)})");
        JsonObject? config = metadata.TryGetValue("config", out var json) && !string.IsNullOrWhiteSpace(json) ? JsonNode.Parse(json) as JsonObject : null;
        var heads = name switch
        {
            Detectron2 => MaskRcnnConfig.Detectron2Coco(),
            Torchvision => MaskRcnnConfig.TorchvisionCoco(),
            _ => MaskRcnnConfig.MsRcnnCoco(),
        };
        var preprocess = name switch
        {
            Detectron2 => PreprocessConfig.Detectron2(),
            Torchvision => PreprocessConfig.Torchvision(),
            _ => PreprocessConfig.MaskRcnnBenchmark(),
        };
        // torchvision's COCO weights run with FrozenBatchNorm2d eps 0 (overwrite_eps); models trained
        // from scratch with BatchNorm2d use 1e-5 and say so in the config.
        double eps = Number(config, "norm_eps") ?? (name == Detectron2 ? 1e-5 : 0);
        var backbone = name switch
        {
            Detectron2 => BackboneConfig.Detectron2() with { NormEps = eps },
            Torchvision => BackboneConfig.Torchvision(normEps: eps),
            _ => BackboneConfig.MaskRcnnBenchmark() with { NormEps = eps },
        };
        if (Number(config, "min_size") is { } min) preprocess = preprocess with { MinSize = (int)min };
        if (Number(config, "max_size") is { } max) preprocess = preprocess with { MaxSize = (int)max };
        if (Number(config, "score_thresh") is { } score) heads = heads with { ScoreThreshold = (float)score };
        return new MaskRcnnSetup(name, heads, backbone, preprocess);
    }

    private static double? Number(JsonObject? config, string key) =>
        config?[key] is JsonValue v ? v.TryGetValue<double>(out var d) ? d : double.Parse(v.ToString(), CultureInfo.InvariantCulture) : null;
}
