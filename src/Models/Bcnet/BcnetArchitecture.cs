using System.Text.Json.Nodes;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// What `nativeseg convert` checks a BCNet FCOS checkpoint (lkeab/BCNet, detectron2 v0.1) against, from the
/// module definitions in specs/bcnet.md §2: detectron2's R50 bottom-up (the same keys as detectron2's Mask R-CNN),
/// an FPN over res3–res5 with the P6/P7 top block, the FCOS head under <c>head.</c> and the bilayer head under
/// <c>mask_head.</c> (not <c>roi_heads.mask_head.</c>).
/// </summary>
public sealed class BcnetArchitecture : IArchitecture
{
    public const string FcosR50Fpn = "bcnet-fcos-r50-fpn";

    private const int Fpn = 256;
    private static readonly int[] StageChannels = [512, 1024, 2048];

    private readonly Lazy<IReadOnlyDictionary<string, int[]>> _keys = new(Keys);

    public string Name => FcosR50Fpn;

    public string ConfigJson { get; } = new JsonObject { ["family"] = "bcnet", ["detector"] = "fcos" }.ToJsonString();

    public IReadOnlyDictionary<string, int[]> ExpectedKeys => _keys.Value;

    /// <summary>Drops the "module." prefix of DataParallel checkpoints and the BatchNorm step counters of the mask head.</summary>
    public string? MapKey(string checkpointKey)
    {
        string key = checkpointKey.StartsWith("module.", StringComparison.Ordinal) ? checkpointKey["module.".Length..] : checkpointKey;
        return key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) ? null : key;
    }

    private static Dictionary<string, int[]> Keys()
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
        var detectron2 = MaskRcnnArchitecture.All.First(a => a.Name == MaskRcnnArchitectures.Detectron2).ExpectedKeys;
        foreach (var (name, shape) in detectron2.Where(k => k.Key.StartsWith("backbone.bottom_up.", StringComparison.Ordinal)))
            keys[name] = shape;

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

        const string m = "mask_head.";
        for (int i = 1; i <= 4; i++) Conv($"{m}mask_fcn{i}", Fpn, Fpn, 3);
        for (int i = 1; i <= 4; i++) Conv($"{m}boundary_fcn{i}", Fpn, Fpn, 3);
        // ConvTranspose2d weights are [in, out, kH, kW]; in = out here.
        foreach (var d in new[] { "deconv", "boundary_deconv_bo", "boundary_deconv", "bo_deconv" }) Conv(m + d, Fpn, Fpn, 2);
        foreach (var suffix in new[] { "_bo", "" })
            foreach (var t in new[] { "query", "key", "value", "output" })
                Conv($"{m}{t}_transform_bound{suffix}", Fpn, Fpn, 1, bias: false);
        foreach (var suffix in new[] { "_bo", "" })
            Vector($"{m}blocker_bound{suffix}", Fpn, "weight", "bias", "running_mean", "running_var");
        foreach (var p in new[] { "predictor", "predictor_bo", "boundary_predictor_bo", "boundary_predictor" }) Conv(m + p, 1, Fpn, 1);
        return keys;
    }
}
