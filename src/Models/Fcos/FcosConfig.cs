namespace NativeSeg.Models.Fcos;

/// <summary>
/// An FCOS detector's structure and test-time settings. BCNet's FCOS (specs/bcnet.md §3.1, §5) and AdelaiDet's
/// (specs/blendmask.md §2) share one head and one decoder; every way they differ is a member here, set by
/// <see cref="Bcnet"/> and <see cref="AdelaiDet"/>, so no other code branches on whose FCOS it is.
/// </summary>
/// <remarks>
/// Candidates are (location, class) pairs above <see cref="InferenceThreshold"/>, tested on sigmoid(cls), or on
/// sigmoid(cls)·sigmoid(ctr) with <see cref="ThresholdWithCenterness"/>; each level keeps its
/// <see cref="PreNmsTopN"/> best by cls·ctr; class-aware NMS over all levels; then <see cref="DetectionsPerImage"/>.
/// </remarks>
public sealed record FcosConfig(int Classes = 80, float InferenceThreshold = 0.03f, int PreNmsTopN = 1000,
    float NmsThreshold = 0.6f, int DetectionsPerImage = 100, int Channels = 256)
{
    public const int MinLevel = 3;

    /// <summary>Strides of P3..P7, the most levels an FCOS pyramid has.</summary>
    public static IReadOnlyList<int> Strides { get; } = [8, 16, 32, 64, 128];

    /// <summary>Pyramid levels above P5 made by the top block: 2 (P6, P7), or 1 (P6) in the 550 configs.</summary>
    public int TopLevels { get; init; } = 2;

    public int Levels => 3 + TopLevels;

    /// <summary>Where the head's keys start (with the trailing dot).</summary>
    public string Prefix { get; init; } = "head.";

    /// <summary>The centre-ness predictor's name: AdelaiDet renamed <c>centerness</c> to <c>ctrness</c>.</summary>
    public string CenternessName { get; init; } = "centerness";

    /// <summary>Convs (each with GroupNorm and ReLU) of the classification, box and shared towers.</summary>
    public int ClsConvs { get; init; } = 4;

    public int BoxConvs { get; init; } = 4;

    /// <summary>Tower convs run before the cls and box towers split (NUM_SHARE_CONVS).</summary>
    public int ShareConvs { get; init; } = 0;

    /// <summary>A learnt scale per level multiplies the regression before its ReLU (USE_SCALE).</summary>
    public bool UseScale { get; init; } = true;

    /// <summary>The candidate threshold applies to cls·ctr rather than cls (THRESH_WITH_CTR).</summary>
    public bool ThresholdWithCenterness { get; init; }

    /// <summary>
    /// Cut to <see cref="DetectionsPerImage"/> by keeping every score at least the cut's (kthvalue, so ties can
    /// keep more), as AdelaiDet does; otherwise the first <see cref="DetectionsPerImage"/> by score.
    /// </summary>
    public bool KeepTiesAtCut { get; init; }

    /// <summary>BCNet's FCOS: keys under <c>head.</c>, scales, threshold 0.03 on cls (its released config's INFERENCE_TH_TEST).</summary>
    public static FcosConfig Bcnet(int channels = 256) => new(Channels: channels);

    /// <summary>
    /// AdelaiDet's FCOS as BlendMask's configs set it (Base-BlendMask.yaml: no scales, THRESH_WITH_CTR; threshold
    /// 0.05); <paramref name="topLevels"/> 1 is the 550 configs' P3–P6 with three shared tower convs instead of
    /// separate cls and box towers.
    /// </summary>
    public static FcosConfig AdelaiDet(int topLevels = 2, int channels = 256) => new(InferenceThreshold: 0.05f, Channels: channels)
    {
        TopLevels = topLevels,
        Prefix = "proposal_generator.fcos_head.",
        CenternessName = "ctrness",
        ClsConvs = topLevels == 1 ? 0 : 4,
        BoxConvs = topLevels == 1 ? 0 : 4,
        ShareConvs = topLevels == 1 ? 3 : 0,
        UseScale = false,
        ThresholdWithCenterness = true,
        KeepTiesAtCut = true,
    };
}
