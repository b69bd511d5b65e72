using System.Text.Json.Nodes;
using NativeSeg.Layers.Backbones;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.BlendMask;

/// <summary>
/// A released BlendMask configuration (AdelaiDet, configs/BlendMask; specs/blendmask.md) and what `nativeseg convert`
/// checks its checkpoint against: the keys and shapes of the released state dicts (embedded key lists), less what
/// inference never reads (the basis module's training-only semantic head and BatchNorm step counters).
/// </summary>
public sealed class BlendMaskArchitecture : IArchitecture
{
    public const string R50Fpn = "blendmask-r50-fpn";
    public const string R101Dcni3Fpn = "blendmask-r101-dcni3-fpn";
    public const string R50Fpn550 = "blendmask-550-r50-fpn";

    private const string SemanticHead = "basis_module.seg_head.";
    private const string OldCenterness = "proposal_generator.fcos_head.centerness.";

    private readonly string _keyList;
    private readonly Lazy<IReadOnlyDictionary<string, int[]>> _keys;

    private BlendMaskArchitecture(string name, string keyList, int depth, DeformableConvs? deformable, int topLevels, int basisConvs, int minSize, int maxSize)
    {
        Name = name;
        _keyList = keyList;
        Depth = depth;
        Deformable = deformable;
        TopLevels = topLevels;
        BasisConvs = basisConvs;
        Preprocess = PreprocessConfig.For(DetectionFlavour.Detectron2) with { MinSize = minSize, MaxSize = maxSize };
        _keys = new(() => KeyListArchitecture.Read(keyList).Where(k => MapKey(k.Key) == k.Key).ToDictionary(StringComparer.Ordinal));
        ConfigJson = new JsonObject { ["family"] = "blendmask", ["key_list"] = keyList }.ToJsonString();
    }

    /// <summary>R_50_1x (and R_50_3x): Base-BlendMask at 800/1333.</summary>
    public static BlendMaskArchitecture R50 { get; } = new(R50Fpn, "keys_blendmask_R_50_1x.txt", 50, null, 2, 3, 800, 1333);

    /// <summary>R_101_dcni3_5x: modulated deformable 3×3 convs in every third block of res3–res5.</summary>
    public static BlendMaskArchitecture R101Dcni3 { get; } = new(R101Dcni3Fpn, "keys_blendmask_R_101_dcni3_5x.txt", 101,
        new DeformableConvs([false, true, true, true], Interval: 3, Modulated: true), 2, 3, 800, 1333);

    /// <summary>550_R_50_3x: P3–P6, three shared FCOS tower convs, two basis tower convs, 550/916.</summary>
    public static BlendMaskArchitecture R50At550 { get; } = new(R50Fpn550, "keys_blendmask_550_R_50_3x.txt", 50, null, 1, 2, 550, 916);

    public static IReadOnlyList<BlendMaskArchitecture> All { get; } = [R50, R101Dcni3, R50At550];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(a => a.Name)];

    /// <summary>The architecture a converted file's metadata names; throws when it is not a BlendMask model.</summary>
    public static BlendMaskArchitecture Named(string name) =>
        All.FirstOrDefault(a => a.Name == name) ?? throw new NotSupportedException($"'{name}' is not a BlendMask architecture ({string.Join(", ", Names)})");

    public string Name { get; }

    public int Depth { get; }

    public DeformableConvs? Deformable { get; }

    /// <summary>FPN levels above P5: 2 (P6, P7) or 1 (P6).</summary>
    public int TopLevels { get; }

    /// <summary>The basis module's tower convs before its upsampling.</summary>
    public int BasisConvs { get; }

    /// <summary>The released config's test-time input size and detectron2's preprocessing.</summary>
    public PreprocessConfig Preprocess { get; }

    public string ConfigJson { get; }

    public IReadOnlyDictionary<string, int[]> ExpectedKeys => _keys.Value;

    public BackboneConfig Backbone => BackboneConfig.Detectron2(Depth) with { Deformable = Deformable };

    public FcosConfig Fcos => FcosConfig.AdelaiDet(TopLevels);

    /// <summary>
    /// Drops DataParallel's "module." prefix, the training-only semantic head and BatchNorm step counters, and
    /// renames FCOS's <c>centerness</c> to <c>ctrness</c> (AdelaiDet renamed it after the first release).
    /// </summary>
    public string? MapKey(string checkpointKey)
    {
        string key = checkpointKey.StartsWith("module.", StringComparison.Ordinal) ? checkpointKey["module.".Length..] : checkpointKey;
        if (key.StartsWith(SemanticHead, StringComparison.Ordinal) || key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) return null;
        return key.StartsWith(OldCenterness, StringComparison.Ordinal) ? "proposal_generator.fcos_head.ctrness." + key[OldCenterness.Length..] : key;
    }

    /// <summary>
    /// The test-time settings of a converted file's config: the released config's, with <c>min_size</c>,
    /// <c>max_size</c> and <c>score_thresh</c> (FCOS's INFERENCE_TH_TEST) replaced where the file sets them.
    /// </summary>
    public (PreprocessConfig Preprocess, FcosConfig Fcos) Settings(string configJson, string what)
    {
        var config = ConfigFields.Parse(configJson, what);
        var preprocess = Preprocess with
        {
            MinSize = ConfigFields.Integer(config, "min_size", 1, ConfigFields.MaxImageSize, what) ?? Preprocess.MinSize,
            MaxSize = ConfigFields.Integer(config, "max_size", 1, ConfigFields.MaxImageSize, what) ?? Preprocess.MaxSize,
        };
        var fcos = Fcos;
        if (ConfigFields.Real(config, "score_thresh", 0, 1, what) is { } threshold) fcos = fcos with { InferenceThreshold = (float)threshold };
        return (preprocess, fcos);
    }
}
