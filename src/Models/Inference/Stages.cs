namespace NativeSeg.Models.Inference;

/// <summary>The stage names a <see cref="StageClock"/> reports, in pipeline order, shared by the models and `bench model`.</summary>
public static class Stages
{
    public const string Decode = "decode";
    public const string Preprocess = "preprocess";
    public const string Backbone = "backbone+fpn";
    public const string Rpn = "rpn";
    public const string BoxHead = "box head";
    public const string MaskHead = "mask head";
    public const string Paste = "paste";
    public const string Encode = "encode (rle)";

    public static IReadOnlyList<string> All { get; } = [Decode, Preprocess, Backbone, Rpn, BoxHead, MaskHead, Paste, Encode];
}
