namespace NativeSeg.Models.Preprocessing;

/// <summary>Which framework's input pipeline to reproduce; they differ in order of operations and rounding.</summary>
public enum PreprocessFlavour
{
    /// <summary>Pillow resize on uint8 (ResizeShortestEdge), then (x − mean)/std on 0..255 values.</summary>
    Detectron2,

    /// <summary>x/255, (x − mean)/std, then float bilinear interpolation (GeneralizedRCNNTransform).</summary>
    Torchvision,

    /// <summary>Pillow resize with its own size rule, to_tensor (/255), ×255, then (x − mean)/std.</summary>
    MaskRcnnBenchmark,
}

/// <summary>
/// An input pipeline. <see cref="PixelMean"/> and <see cref="PixelStd"/> are in the network's channel order
/// (<see cref="Bgr"/>) and in the units the flavour normalises (0..255, or 0..1 for torchvision).
/// </summary>
public sealed record PreprocessConfig(PreprocessFlavour Flavour, float[] PixelMean, float[] PixelStd, bool Bgr,
    int MinSize = 800, int MaxSize = 1333, int SizeDivisibility = 32)
{
    /// <summary>detectron2 defaults with MSRA weights (INPUT.FORMAT BGR).</summary>
    public static PreprocessConfig Detectron2() => new(PreprocessFlavour.Detectron2, [103.530f, 116.280f, 123.675f], [1f, 1f, 1f], Bgr: true);

    /// <summary>torchvision's maskrcnn_resnet50_fpn: ImageNet statistics on RGB in [0, 1].</summary>
    public static PreprocessConfig Torchvision() => new(PreprocessFlavour.Torchvision, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], Bgr: false);

    /// <summary>maskrcnn-benchmark (and MS R-CNN) R-50-FPN: TO_BGR255 with Detectron's means.</summary>
    public static PreprocessConfig MaskRcnnBenchmark() => new(PreprocessFlavour.MaskRcnnBenchmark, [102.9801f, 115.9465f, 122.7717f], [1f, 1f, 1f], Bgr: true);

    /// <summary>The resized (unpadded) size for an image of the given size.</summary>
    public (int Height, int Width) ResizedSize(int height, int width) => Flavour switch
    {
        PreprocessFlavour.Detectron2 => ResizeRules.Detectron2(height, width, MinSize, MaxSize),
        PreprocessFlavour.Torchvision => ResizeRules.Torchvision(height, width, MinSize, MaxSize),
        _ => ResizeRules.MaskRcnnBenchmark(height, width, MinSize, MaxSize),
    };
}
