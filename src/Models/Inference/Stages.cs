namespace NativeSeg.Models.Inference;

/// <summary>
/// The stage names a <see cref="StageClock"/> reports, in pipeline order, shared by the models and `bench model`;
/// each model reports the stages it has.
/// </summary>
public static class Stages
{
    public const string Decode = "decode";
    public const string Preprocess = "preprocess";
    public const string Backbone = "backbone+fpn";
    /// <summary>A one-stage detector's head and box post-processing (BCNet's FCOS).</summary>
    public const string FcosHead = "fcos head";
    public const string Rpn = "rpn";
    public const string BoxHead = "box head";
    public const string MaskHead = "mask head";
    /// <summary>BlendMask's basis module: the bases its blender pools.</summary>
    public const string Bases = "bases";
    /// <summary>BlendMask's attentions at the kept detections, RoI pooling of the bases and blending.</summary>
    public const string Blender = "blender";
    /// <summary>Pasting the masks into the image and encoding them as COCO RLE, interleaved a chunk at a time.</summary>
    public const string Paste = "paste+rle";

    public static IReadOnlyList<string> All { get; } = [Decode, Preprocess, Backbone, FcosHead, Rpn, BoxHead, MaskHead, Bases, Blender, Paste];
}
