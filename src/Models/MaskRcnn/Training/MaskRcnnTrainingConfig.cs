using System.Text.Json.Nodes;
using NativeSeg.Kernels.BoxIou;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// How ground truth becomes training targets, kept apart from <see cref="MaskRcnnConfig"/> so inference configs
/// and their loading stay as they are. The defaults are both flavours' COCO settings (spec §1.13).
/// </summary>
public sealed record MaskRcnnTrainingConfig
{
    public required DetectionFlavour Flavour { get; init; }

    public Matcher RpnMatcher { get; init; } = Matcher.RpnAnchors;

    public Matcher RoiMatcher { get; init; } = Matcher.RoiProposals;

    /// <summary>Anchors sampled per image for the RPN loss (torchvision batch_size_per_image, detectron2 RPN.BATCH_SIZE_PER_IMAGE).</summary>
    public int RpnBatchSizePerImage { get; init; } = 256;

    public double RpnPositiveFraction { get; init; } = 0.5;

    /// <summary>Proposals sampled per image for the box and mask heads.</summary>
    public int RoiBatchSizePerImage { get; init; } = 512;

    public double RoiPositiveFraction { get; init; } = 0.25;

    /// <summary>
    /// detectron2's RPN.BOUNDARY_THRESH: with a value ≥ 0, anchors reaching further than this outside the image
    /// are ignored. The default −1 keeps every anchor, as torchvision always does.
    /// </summary>
    public float AnchorBoundaryThreshold { get; init; } = -1;

    /// <summary>Side of the square mask targets.</summary>
    public int MaskSize { get; init; } = 28;

    /// <summary>RPN proposals kept per level before NMS in training (torchvision pre_nms_top_n "training", detectron2 PRE_NMS_TOPK_TRAIN).</summary>
    public int RpnPreNmsTopK { get; init; } = 2000;

    /// <summary>RPN proposals kept per image after NMS in training: torchvision 2000, detectron2 POST_NMS_TOPK_TRAIN 1000.</summary>
    public int RpnPostNmsTopK { get; init; } = 2000;

    /// <summary>
    /// Backbone stages trained, counted from res5 down with the stem last (torchvision's trainable_backbone_layers):
    /// 3 trains res3..res5 as both frameworks finetune (stem and res2 frozen), 5 trains everything (from scratch).
    /// </summary>
    public int TrainableBackboneLayers { get; init; } = 3;

    /// <summary>The last backbone stage kept frozen (1 = the stem, 0 = none), as <c>ResNet.FreezeThrough</c> takes it.</summary>
    public int LastFrozenStage => 5 - TrainableBackboneLayers;

    /// <summary>Smooth-L1 beta of the box losses: torchvision 1/9, detectron2 SMOOTH_L1_BETA 0 (an L1 loss).</summary>
    public float BoxLossBeta => Flavour.BoxLossBeta;

    public IouZeroArea IouZeroArea => Flavour.IouZeroArea;

    public SampleOrder SampleOrder => Flavour.SampleOrder;

    /// <summary>Defaults for a model's flavour; maskrcnn-benchmark models are inference-only here.</summary>
    public static MaskRcnnTrainingConfig For(DetectionFlavour flavour) => flavour.Trains
        ? new() { Flavour = flavour, RpnPostNmsTopK = flavour.TrainingRpnPostNmsTopK }
        : throw new NotSupportedException($"training targets are implemented for the torchvision and detectron2 flavours, not {flavour.Name}");

    /// <summary>
    /// The flavour's defaults with the training settings a model's config JSON sets, under torchvision's MaskRCNN
    /// argument names: trainable_backbone_layers, rpn_pre_nms_top_n_train, rpn_post_nms_top_n_train,
    /// box_batch_size_per_image (a small model on simple images trains faster with fewer proposals and samples).
    /// </summary>
    public static MaskRcnnTrainingConfig For(DetectionFlavour flavour, string? configJson, string file)
    {
        var defaults = For(flavour);
        var config = ConfigFields.Parse(configJson, file);
        return defaults with
        {
            TrainableBackboneLayers = ConfigFields.Integer(config, "trainable_backbone_layers", 0, 5, file) ?? defaults.TrainableBackboneLayers,
            RpnPreNmsTopK = ConfigFields.Integer(config, "rpn_pre_nms_top_n_train", 1, MaxProposals, file) ?? defaults.RpnPreNmsTopK,
            RpnPostNmsTopK = ConfigFields.Integer(config, "rpn_post_nms_top_n_train", 1, MaxProposals, file) ?? defaults.RpnPostNmsTopK,
            RoiBatchSizePerImage = ConfigFields.Integer(config, "box_batch_size_per_image", 1, MaxProposals, file) ?? defaults.RoiBatchSizePerImage,
        };
    }

    /// <summary>
    /// The config settings that shape a training run and not the model: the ones <see cref="For(DetectionFlavour, string?, string)"/>
    /// reads, and "norm" (BatchNorm and FrozenBN fold to the same inference transform).
    /// </summary>
    public static IReadOnlyList<string> RunSettings { get; } =
        ["norm", "trainable_backbone_layers", "rpn_pre_nms_top_n_train", "rpn_post_nms_top_n_train", "box_batch_size_per_image"];

    /// <summary>
    /// A trained model's metadata without <see cref="RunSettings"/>: the final model is a trained model like a released
    /// checkpoint, and finetuning it freezes the stem, res2 and every BatchNorm by default, as torchvision and detectron2
    /// do with trained weights, whatever the run that made it needed. Checkpoints keep the run's settings for --resume.
    /// <paramref name="removed"/> names the settings the metadata had.
    /// </summary>
    public static Dictionary<string, string> WithoutRunSettings(IReadOnlyDictionary<string, string> metadata, out IReadOnlyList<string> removed)
    {
        var trained = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        removed = [];
        if (ConfigFields.Parse(metadata.GetValueOrDefault("config"), "the trained model") is { } config)
        {
            removed = [.. RunSettings.Where(config.Remove)];
            if (removed.Count > 0) trained["config"] = config.ToJsonString();
        }
        return trained;
    }

    /// <summary>Ten times the largest upstream proposal count (2000): beyond it a config is a typo, not a setting.</summary>
    private const int MaxProposals = 20000;
}
