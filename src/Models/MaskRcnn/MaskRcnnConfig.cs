using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>Architecture and inference settings of a ResNet-FPN Mask R-CNN: the detector's (<see cref="DetectorConfig"/>) and its heads' widths.</summary>
public sealed record MaskRcnnConfig : DetectorConfig
{
    /// <summary>Channels of the FPN levels the heads read (the backbone's FPN width).</summary>
    public int FeatureChannels { get; init; } = 256;

    /// <summary>Width of the box head's two FC layers (torchvision's representation_size).</summary>
    public int BoxHidden { get; init; } = 1024;

    /// <summary>Channels of the mask head's four 3×3 convs and its deconv.</summary>
    public int MaskChannels { get; init; } = 256;

    /// <summary>
    /// BCNet's bilayer (occluder/occludee) head in place of the conv-deconv head, as in the Faster R-CNN port of
    /// BCNet (specs/bcnet.md §1.7); it reads the pooled RoIs at <see cref="MaskChannels"/>, so the FPN has that width.
    /// </summary>
    public bool BilayerMask { get; init; }

    /// <summary>One mask predictor channel for every class (BCNet's configs) rather than one per class.</summary>
    public bool ClassAgnosticMask { get; init; }

    /// <summary>Output channels of the mask predictors.</summary>
    public int MaskPredictorChannels => ClassAgnosticMask ? 1 : BoxClasses;

    /// <summary>Mask Scoring R-CNN: a MaskIoU head rescales each mask's score.</summary>
    public bool MaskIou { get; init; }

    /// <summary>detectron2 COCO: 80 foreground logits then background.</summary>
    public static MaskRcnnConfig Detectron2Coco() => new()
    {
        Flavour = DetectionFlavour.Detectron2, ClassLogits = 81, BackgroundFirst = false, CategoryIds = [.. Coco80, -1],
    };

    /// <summary>torchvision COCO: 91 slots, logit i is COCO category i (ten unused ids still take part in the softmax).</summary>
    public static MaskRcnnConfig TorchvisionCoco() => new()
    {
        Flavour = DetectionFlavour.Torchvision, ClassLogits = 91, BackgroundFirst = true, CategoryIds = [.. Enumerable.Range(0, 91).Select(i => (long)i)],
    };

    /// <summary>Mask Scoring R-CNN (maskrcnn-benchmark COCO): background then the 80 classes in category-id order.</summary>
    public static MaskRcnnConfig MsRcnnCoco() => new()
    {
        Flavour = DetectionFlavour.MaskRcnnBenchmark, ClassLogits = 81, BackgroundFirst = true, CategoryIds = [-1, .. Coco80], MaskIou = true,
    };
}
