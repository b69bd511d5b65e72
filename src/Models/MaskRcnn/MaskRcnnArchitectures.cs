using System.Text.Json.Nodes;
using NativeSeg.Layers.Backbones;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// A runnable Mask R-CNN: backbone, preprocessing and head settings that belong together, and the names of
/// its categories when the file carries them (null: COCO's).
/// </summary>
public sealed record MaskRcnnSetup(string Architecture, MaskRcnnConfig Heads, BackboneConfig Backbone, PreprocessConfig Preprocess,
    IReadOnlyDictionary<long, string>? CategoryNames = null);

/// <summary>
/// The Mask R-CNN architecture names a converted file's "architecture" metadata may carry, and the optional
/// "config" JSON overrides that upstream configs expose too: min_size, max_size, score_thresh, norm_eps,
/// image_mean, image_std; and for models not trained on COCO: fpn_channels, box_representation,
/// mask_conv_dim, num_classes (logits, background included), category_ids and class_names (foreground,
/// in logit order). "mask_head": "bilayer" puts BCNet's bilayer head in any of them, as BCNet's Faster R-CNN
/// variants have it; bilayer models also take cls_agnostic_mask (default true, BCNet's configs; false for the
/// port's default of one mask predictor channel per class), and fpn_channels sets their mask_conv_dim too, since
/// the bilayer head adds the pooled RoI features to its occluder branch's. "norm": "BN" makes the backbone's
/// BatchNorms trainable (a model trained from scratch); <see cref="Training.MaskRcnnTrainingConfig"/> reads the
/// training settings (trainable_backbone_layers and the training proposal and sample counts). Each override is checked against the
/// bounds below when the file loads, so a broken config fails naming its field rather than aborting later.
/// </summary>
public static class MaskRcnnArchitectures
{
    public const string Detectron2 = "maskrcnn_R_50_FPN_detectron2";
    public const string Torchvision = "maskrcnn_resnet50_fpn_torchvision";
    public const string MsRcnn = "msrcnn_R_50_FPN";
    public const string Detectron2R101 = "maskrcnn_R_101_FPN_detectron2";
    public const string MsRcnnR101 = "msrcnn_R_101_FPN";

    /// <summary>BCNet's bilayer mask head on detectron2's Mask R-CNN (trqminh/Faster-RCNN-BCNet; specs/bcnet.md §1.7).</summary>
    public const string BcnetR50 = "bcnet-frcnn-r50-fpn";

    /// <summary>The same on detectron2's R101-FPN.</summary>
    public const string BcnetR101 = "bcnet-frcnn-r101-fpn";

    /// <summary>torchvision's MaskRCNN on a ResNet-18 FPN body trained from scratch with BatchNorm2d (the default model).</summary>
    public const string TorchvisionResNet18 = "maskrcnn_resnet18_fpn_torchvision";

    public static IReadOnlyList<string> Names { get; } = [Detectron2, Detectron2R101, Torchvision, TorchvisionResNet18, MsRcnn, MsRcnnR101, BcnetR50, BcnetR101];

    public static bool Knows(string? architecture) => architecture is not null && Names.Contains(architecture);

    /// <summary>The setup for a converted file's metadata; throws when it is not a Mask R-CNN.</summary>
    public static MaskRcnnSetup FromMetadata(IReadOnlyDictionary<string, string> metadata, string file)
    {
        if (!metadata.TryGetValue("architecture", out var name))
            throw new NotSupportedException($"{file} has no 'architecture' in its metadata; convert checkpoints with `nativeseg convert`");
        if (!Knows(name))
            throw new NotSupportedException($"{file} holds a '{name}' model; this runner takes Mask R-CNN ({string.Join(", ", Names)})");
        var config = ConfigFields.Parse(metadata.GetValueOrDefault("config"), file);
        bool bilayer = name is BcnetR50 or BcnetR101 || MaskHead(config, file) == "bilayer";
        var heads = name switch
        {
            Detectron2 or Detectron2R101 or BcnetR50 or BcnetR101 => MaskRcnnConfig.Detectron2Coco(),
            Torchvision or TorchvisionResNet18 => MaskRcnnConfig.TorchvisionCoco(),
            _ => MaskRcnnConfig.MsRcnnCoco(),
        };
        var preprocess = PreprocessConfig.For(heads.Flavour);
        // torchvision's COCO weights run with FrozenBatchNorm2d eps 0 (overwrite_eps); models trained
        // from scratch with BatchNorm2d use 1e-5.
        double eps = ConfigFields.Real(config, "norm_eps", 0, 1, file) ?? (name is Detectron2 or Detectron2R101 or BcnetR50 or BcnetR101 or TorchvisionResNet18 ? 1e-5 : 0);
        var backbone = name switch
        {
            Detectron2 or BcnetR50 => BackboneConfig.Detectron2() with { NormEps = eps },
            Detectron2R101 or BcnetR101 => BackboneConfig.Detectron2() with { NormEps = eps, Depth = 101 },
            Torchvision => BackboneConfig.Torchvision(normEps: eps),
            TorchvisionResNet18 => BackboneConfig.Torchvision(18, eps),
            MsRcnnR101 => BackboneConfig.MaskRcnnBenchmark() with { NormEps = eps, Depth = 101 },
            _ => BackboneConfig.MaskRcnnBenchmark() with { NormEps = eps },
        };
        if (bilayer) heads = heads with { BilayerMask = true, ClassAgnosticMask = true };
        if (Norm(config, file) == "BN") backbone = backbone with { TrainableNorm = true };
        if (ConfigFields.Integer(config, "min_size", 1, ConfigFields.MaxImageSize, file) is { } min) preprocess = preprocess with { MinSize = min };
        if (ConfigFields.Integer(config, "max_size", 1, ConfigFields.MaxImageSize, file) is { } max) preprocess = preprocess with { MaxSize = max };
        if (PixelStatistics(config, "image_mean", file) is { } mean) preprocess = preprocess with { PixelMean = mean };
        if (PixelStatistics(config, "image_std", file) is { } std)
        {
            // Preprocessing divides by the std: a zero gives infinite inputs, a negative one flips them.
            if (std.Any(v => !(v > 0)))
                throw new FormatException($"{file}: config image_std {config!["image_std"]!.ToJsonString()} must have every value above 0");
            preprocess = preprocess with { PixelStd = std };
        }
        if (ConfigFields.Real(config, "score_thresh", 0, 1, file) is { } score) heads = heads with { ScoreThreshold = (float)score };
        if (ConfigFields.Integer(config, "fpn_channels", 1, MaxWidth, file) is { } fpn)
        {
            backbone = backbone with { FpnChannels = fpn };
            heads = heads with { FeatureChannels = fpn, MaskChannels = bilayer ? fpn : heads.MaskChannels };
        }
        if (ConfigFields.Integer(config, "box_representation", 1, MaxWidth, file) is { } hidden) heads = heads with { BoxHidden = hidden };
        if (ConfigFields.Integer(config, "mask_conv_dim", 1, MaxWidth, file) is { } maskDim) heads = heads with { MaskChannels = maskDim };
        if (config?["cls_agnostic_mask"] is JsonValue agnostic)
        {
            if (!bilayer) throw new FormatException($"{file}: cls_agnostic_mask is a setting of the bilayer mask head ({BcnetR50}, {BcnetR101} or \"mask_head\": \"bilayer\")");
            heads = heads with { ClassAgnosticMask = agnostic.GetValue<bool>() };
        }
        if (bilayer && heads.MaskChannels != heads.FeatureChannels)
            throw new FormatException($"{file}: the bilayer head needs mask_conv_dim ({heads.MaskChannels}) equal to the FPN width ({heads.FeatureChannels})");
        IReadOnlyDictionary<long, string>? names = null;
        if (ConfigFields.Integer(config, "num_classes", 2, MaxClasses, file) is { } classes)
        {
            int foreground = classes - 1;
            var ids = Numbers(config, "category_ids")?.Select(v => (long)v).ToArray() ?? [.. Enumerable.Range(1, foreground).Select(i => (long)i)];
            if (ids.Length != foreground)
                throw new FormatException($"{file}: config has {ids.Length} category_ids for num_classes {classes} (background included)");
            // The background logit's id is never read.
            heads = heads with { ClassLogits = classes, CategoryIds = heads.BackgroundFirst ? [-1, .. ids] : [.. ids, -1] };
            if (config?["class_names"] is JsonArray classNames)
            {
                if (classNames.Count != foreground)
                    throw new FormatException($"{file}: config has {classNames.Count} class_names for {foreground} categories");
                names = ids.Zip(classNames, (id, n) => (id, n?.GetValue<string>() ?? "")).ToDictionary(p => p.id, p => p.Item2);
            }
        }
        return new MaskRcnnSetup(name, heads, backbone, preprocess, names);
    }

    /// <summary>
    /// The "norm" setting, detectron2's names: "FrozenBN" (the default; statistics and affine terms fixed, as every
    /// released checkpoint finetunes) or "BN" (trainable BatchNorm2d with batch statistics in training, for a model
    /// trained from scratch; at inference both are the same folded affine transform).
    /// </summary>
    private static string Norm(JsonObject? config, string file) => config?["norm"] switch
    {
        null => "FrozenBN",
        JsonValue v when v.TryGetValue<string>(out var kind) && kind is "FrozenBN" or "BN" => kind,
        var other => throw new FormatException($"{file}: config norm is {other.ToJsonString()}; it takes \"FrozenBN\" or \"BN\""),
    };

    /// <summary>The "mask_head" setting: "standard" (the default) or "bilayer".</summary>
    private static string MaskHead(JsonObject? config, string file) => config?["mask_head"] switch
    {
        null => "standard",
        JsonValue v when v.TryGetValue<string>(out var kind) && kind is "standard" or "bilayer" => kind,
        var other => throw new FormatException($"{file}: config mask_head is {other.ToJsonString()}; it takes \"standard\" or \"bilayer\""),
    };

    /// <summary>
    /// The largest fpn_channels, box_representation and mask_conv_dim: four times the widest upstream layer (the
    /// 1024-wide box head), where the box head's first layer alone is already 200 MB of weights at 256 FPN channels.
    /// </summary>
    private const int MaxWidth = 4096;

    /// <summary>
    /// The most class logits, background included: room for LVIS's 1203 categories several times over, where the
    /// class-specific box regressor is already 160 MB; fewer than 2 leaves no foreground category.
    /// </summary>
    private const int MaxClasses = 10000;

    /// <summary>image_mean or image_std: one finite number per RGB channel, or null when the config does not set it.</summary>
    private static float[]? PixelStatistics(JsonObject? config, string key, string file)
    {
        if (config?[key] is not { } node) return null;
        float[]? values = node is JsonArray array && array.Count == 3 && array.All(v => v is JsonValue n && n.TryGetValue<double>(out _))
            ? [.. array.Select(v => v!.GetValue<float>())]
            : null;
        if (values is null || !values.All(float.IsFinite))
            throw new FormatException($"{file}: config {key} is {node.ToJsonString()}; it takes 3 finite numbers, one per channel");
        return values;
    }

    private static float[]? Numbers(JsonObject? config, string key) =>
        config?[key] is JsonArray values ? [.. values.Select(v => v!.GetValue<float>())] : null;
}
