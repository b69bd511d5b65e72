using System.Text.Json.Nodes;
using NativeSeg.Models.Conversion;
using NativeSeg.Layers.Backbones;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Detection.MaskHeads;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// A BCNet FCOS model (lkeab/BCNet, detectron2 v0.1) and what `nativeseg convert` checks its checkpoint against,
/// from the module definitions in specs/bcnet.md §2: detectron2's R50 or R101 bottom-up (the same keys as
/// detectron2's Mask R-CNN), an FPN over res3–res5 with the P6/P7 top block, the FCOS head under <c>head.</c>
/// and the bilayer head under <c>mask_head.</c> (not <c>roi_heads.mask_head.</c>).
/// </summary>
public sealed class BcnetArchitecture : IArchitecture
{
    public const string FcosR50Fpn = "bcnet-fcos-r50-fpn";

    /// <summary>The released BCNet model (<c>model_final_beta.pth</c>, fcos_imprv_R_101_FPN).</summary>
    public const string FcosR101Fpn = "bcnet-fcos-r101-fpn";

    private const int Fpn = 256;
    private static readonly int[] StageChannels = [512, 1024, 2048];

    private readonly Lazy<IReadOnlyDictionary<string, int[]>> _keys;

    private BcnetArchitecture(string name, int depth, PreprocessConfig preprocess)
    {
        Name = name;
        Depth = depth;
        Preprocess = preprocess;
        _keys = new(() => Keys(depth));
    }

    public static BcnetArchitecture R50 { get; } =
        new(FcosR50Fpn, 50, PreprocessConfig.For(DetectionFlavour.Detectron2) with { MinSize = 600, MaxSize = 900 });

    public static BcnetArchitecture R101 { get; } = new(FcosR101Fpn, 101, PreprocessConfig.For(DetectionFlavour.Detectron2));

    public static IReadOnlyList<BcnetArchitecture> All { get; } = [R50, R101];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(a => a.Name)];

    /// <summary>The architecture a converted file's metadata names; throws when it is not a BCNet FCOS model.</summary>
    public static BcnetArchitecture Named(string name) =>
        All.FirstOrDefault(a => a.Name == name) ?? throw new NotSupportedException($"'{name}' is not a BCNet FCOS architecture ({string.Join(", ", Names)})");

    public string Name { get; }

    /// <summary>The ResNet depth of the bottom-up.</summary>
    public int Depth { get; }

    /// <summary>The test input size of the architecture's config: Base-FCOS's 600/900 for R50, 800/1333 for the released R101.</summary>
    public PreprocessConfig Preprocess { get; }

    public string ConfigJson { get; } = new JsonObject { ["family"] = "bcnet", ["detector"] = "fcos" }.ToJsonString();

    public IReadOnlyDictionary<string, int[]> ExpectedKeys => _keys.Value;

    /// <summary>Drops the "module." prefix of DataParallel checkpoints and the BatchNorm step counters of the mask head.</summary>
    public string? MapKey(string checkpointKey)
    {
        string key = checkpointKey.StartsWith("module.", StringComparison.Ordinal) ? checkpointKey["module.".Length..] : checkpointKey;
        return key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) ? null : key;
    }

    private static Dictionary<string, int[]> Keys(int depth)
    {
        var keys = new Dictionary<string, int[]>(StringComparer.Ordinal);
        void Conv(string prefix, int o, int i, int k, bool bias = true)
        {
            keys[prefix + ".weight"] = [o, i, k, k];
            if (bias) keys[prefix + ".bias"] = [o];
        }
        void Vector(string prefix, int c, params string[] fields)
        {
            foreach (var f in fields) keys[$"{prefix}.{f}"] = [c];
        }

        // detectron2's FPN registers its lateral and output convs stage by stage, then the top block, then the bottom-up.
        for (int level = 3; level <= 5; level++)
        {
            Conv($"backbone.fpn_lateral{level}", Fpn, StageChannels[level - 3], 1);
            Conv($"backbone.fpn_output{level}", Fpn, Fpn, 3);
        }
        Conv("backbone.top_block.p6", Fpn, Fpn, 3);
        Conv("backbone.top_block.p7", Fpn, Fpn, 3);
        BackboneKeys.AddBottomUp(keys, BackboneConfig.Detectron2() with { Depth = depth });

        foreach (var tower in new[] { "cls_tower", "bbox_tower" })
            for (int i = 0; i < 4; i++)
            {
                Conv($"head.{tower}.{3 * i}", Fpn, Fpn, 3);
                Vector($"head.{tower}.{3 * i + 1}", Fpn, "weight", "bias");
            }
        Conv("head.cls_logits", 80, Fpn, 3);
        Conv("head.bbox_pred", 4, Fpn, 3);
        Conv("head.centerness", 1, Fpn, 3);
        for (int l = 0; l < 5; l++) keys[$"head.scales.{l}.scale"] = [1];

        BilayerHeadKeys.Add(keys, "mask_head.", Fpn, 1);
        return keys;
    }
}
