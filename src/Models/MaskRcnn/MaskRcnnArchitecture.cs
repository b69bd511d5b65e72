using System.Text.Json.Nodes;
using NativeSeg.Layers.Backbones;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Detection.MaskHeads;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// What `nativeseg convert` checks a Mask R-CNN checkpoint against: every ResNet-FPN and head tensor under the
/// flavour's own names, derived from the same name maps and config the model loads with.
/// </summary>
public sealed class MaskRcnnArchitecture : IArchitecture
{
    private readonly Lazy<IReadOnlyDictionary<string, int[]>> _keys;

    private MaskRcnnArchitecture(string name, JsonObject config)
    {
        Name = name;
        config["family"] = "maskrcnn";
        ConfigJson = config.ToJsonString();
        var setup = MaskRcnnArchitectures.FromMetadata(new Dictionary<string, string> { ["architecture"] = name, ["config"] = ConfigJson }, name);
        _keys = new(() => Keys(setup));
    }

    public static IReadOnlyList<IArchitecture> All { get; } = MaskRcnnArchitectures.Names.Select(n => (IArchitecture)new MaskRcnnArchitecture(n, [])).ToList();

    /// <summary>
    /// The architecture with a model's own settings (classes, channels, input size; see
    /// <see cref="MaskRcnnArchitectures"/>), which the key check follows and the converted file carries.
    /// </summary>
    public static MaskRcnnArchitecture Configured(string name, JsonObject config)
    {
        if (!MaskRcnnArchitectures.Knows(name))
            throw new ArgumentException($"'{name}' is not a Mask R-CNN architecture ({string.Join(", ", MaskRcnnArchitectures.Names)})");
        return new MaskRcnnArchitecture(name, (JsonObject)config.DeepClone());
    }

    public string Name { get; }

    public IReadOnlyDictionary<string, int[]> ExpectedKeys => _keys.Value;

    public string ConfigJson { get; }

    /// <summary>
    /// Drops training-only state (BatchNorm step counters) and the anchors maskrcnn-benchmark saves as
    /// buffers (the engine regenerates them), and the "module." prefix of DataParallel checkpoints.
    /// </summary>
    public string? MapKey(string checkpointKey)
    {
        string key = checkpointKey.StartsWith("module.", StringComparison.Ordinal) ? checkpointKey["module.".Length..] : checkpointKey;
        if (key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) || key.Contains("anchor_generator.", StringComparison.Ordinal)) return null;
        return key;
    }

    private static Dictionary<string, int[]> Keys(MaskRcnnSetup setup)
    {
        var keys = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var b = BackboneNames.For(setup.Backbone);
        void Conv(string prefix, int o, int i, int k)
        {
            keys[prefix + ".weight"] = [o, i, k, k];
            keys[prefix + ".bias"] = [o];
        }
        var stageOutputs = BackboneKeys.AddBottomUp(keys, setup.Backbone);
        int fpn = setup.Backbone.FpnChannels;
        for (int level = 2; level <= 5; level++)
        {
            Conv(b.FpnLateral(level), fpn, stageOutputs[level - 2], 1);
            Conv(b.FpnOutput(level), fpn, fpn, 3);
        }

        var h = setup.Heads.Flavour.HeadNames;
        var c = setup.Heads;
        Conv(h.RpnConv, fpn, fpn, 3);
        Conv(h.RpnLogits, AnchorGenerator.PerCell, fpn, 1);
        Conv(h.RpnDeltas, AnchorGenerator.PerCell * 4, fpn, 1);
        Linear(h.BoxFc1, c.BoxHidden, fpn * 7 * 7);
        Linear(h.BoxFc2, c.BoxHidden, c.BoxHidden);
        Linear(h.ClassScore, c.ClassLogits, c.BoxHidden);
        Linear(h.BoxDeltas, c.BoxClasses * 4, c.BoxHidden);
        // The Faster R-CNN port puts BCNet FCOS's bilayer head (specs/bcnet.md §2.3) under detectron2's mask head.
        if (c.BilayerMask) BilayerHeadKeys.Add(keys, HeadNames.MaskHeadModule, c.MaskChannels, c.MaskPredictorChannels);
        else
        {
            int mask = c.MaskChannels;
            for (int i = 1; i <= 4; i++) Conv(h.MaskConv(i), mask, i == 1 ? fpn : mask, 3);
            Conv(h.MaskDeconv, mask, mask, 2);
            Conv(h.MaskPredictor, c.BoxClasses, mask, 1);
        }
        if (c.MaskIou)
        {
            for (int i = 1; i <= 4; i++) Conv(h.MaskIouConv(i), fpn, i == 1 ? fpn + 1 : fpn, 3);
            Linear(h.MaskIouFc1, 1024, fpn * 7 * 7);
            Linear(h.MaskIouFc2, 1024, 1024);
            Linear(h.MaskIou, c.ClassLogits, 1024);
        }
        return keys;

        void Linear(string prefix, int o, int i)
        {
            keys[prefix + ".weight"] = [o, i];
            keys[prefix + ".bias"] = [o];
        }
    }
}
