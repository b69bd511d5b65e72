using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.Detection;

/// <summary>
/// What the shared detection stages (proposals, Fast R-CNN outputs, RoI pooling, postprocessing and paste) read
/// of a model: its framework flavour (<see cref="DetectionFlavour"/>), its class layout and its test-time thresholds. The class layout is given by
/// the number of classification logits and where background sits; box deltas and mask channels are indexed by the
/// logit index in every layout (bg-first layouts carry an unused background slot, bg-last ones stop before it).
/// A family's own config derives from it and adds its heads' settings.
/// </summary>
public record DetectorConfig
{
    /// <summary>Whose conventions every shared stage follows.</summary>
    public required DetectionFlavour Flavour { get; init; }

    /// <summary>Classification logits, background included: 81 (detectron2, maskrcnn-benchmark), 91 (torchvision COCO).</summary>
    public required int ClassLogits { get; init; }

    /// <summary>Background at logit 0 (torchvision, maskrcnn-benchmark) or last (detectron2).</summary>
    public required bool BackgroundFirst { get; init; }

    /// <summary>Dataset category id of each logit index (the background entry is never read).</summary>
    public required long[] CategoryIds { get; init; }

    public float ScoreThreshold { get; init; } = 0.05f;

    public float NmsThreshold { get; init; } = 0.5f;

    public int DetectionsPerImage { get; init; } = 100;

    public int RpnPreNmsTopK { get; init; } = 1000;

    public int RpnPostNmsTopK { get; init; } = 1000;

    public float RpnNmsThreshold { get; init; } = 0.7f;

    public int BackgroundIndex => BackgroundFirst ? 0 : ClassLogits - 1;

    /// <summary>Rows of the class-specific box regression: one per logit when background has a slot, else one per foreground class.</summary>
    public int BoxClasses => BackgroundFirst ? ClassLogits : ClassLogits - 1;

    /// <summary>The 80 COCO category ids in contiguous order (detectron2's thing_dataset_id_to_contiguous_id, inverted).</summary>
    public static IReadOnlyList<long> Coco80 { get; } =
    [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
        35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
        67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
    ];

    /// <summary>A detectron2 COCO detector's outputs: 80 foreground logits then background, pasted the detectron2 way.</summary>
    public static DetectorConfig Detectron2CocoOutputs() => new()
    {
        Flavour = DetectionFlavour.Detectron2, ClassLogits = 81, BackgroundFirst = false, CategoryIds = [.. Coco80, -1],
    };
}
