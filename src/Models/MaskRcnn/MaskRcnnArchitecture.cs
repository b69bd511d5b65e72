using System.Text.Json.Nodes;
using NativeSeg.Layers.Backbones;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Conversion;

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
        void Norm(string prefix, int c)
        {
            foreach (string field in new[] { "weight", "bias", "running_mean", "running_var" }) keys[$"{prefix}.{field}"] = [c];
        }
        void Conv(string prefix, int o, int i, int k)
        {
            keys[prefix + ".weight"] = [o, i, k, k];
            keys[prefix + ".bias"] = [o];
        }
        keys[b.StemConv] = [64, 3, 7, 7];
        Norm(b.StemNorm, 64);
        int input = 64;
        var stageOutputs = new List<int>();
        for (int stage = 2; stage <= 5; stage++)
        {
            int output = setup.Backbone.StageChannels[stage - 2], width = setup.Backbone.BasicBlocks ? output : output / 4;
            for (int block = 0; block < setup.Backbone.StageBlocks[stage - 2]; block++)
            {
                int blockInput = block == 0 ? input : output;
                if (setup.Backbone.BasicBlocks)
                {
                    keys[b.BlockConv(stage, block, 1)] = [output, blockInput, 3, 3];
                    keys[b.BlockConv(stage, block, 2)] = [output, output, 3, 3];
                    Norm(b.BlockNorm(stage, block, 1), output);
                    Norm(b.BlockNorm(stage, block, 2), output);
                    continue;
                }
                keys[b.BlockConv(stage, block, 1)] = [width, blockInput, 1, 1];
                keys[b.BlockConv(stage, block, 2)] = [width, width, 3, 3];
                keys[b.BlockConv(stage, block, 3)] = [output, width, 1, 1];
                Norm(b.BlockNorm(stage, block, 1), width);
                Norm(b.BlockNorm(stage, block, 2), width);
                Norm(b.BlockNorm(stage, block, 3), output);
            }
            // Every stage but a basic-block res2 (64 channels in and out, stride 1) projects its shortcut.
            if (input != output || stage > 2)
            {
                keys[b.ShortcutConv(stage)] = [output, input, 1, 1];
                Norm(b.ShortcutNorm(stage), output);
            }
            stageOutputs.Add(output);
            input = output;
        }
        int fpn = setup.Backbone.FpnChannels;
        for (int level = 2; level <= 5; level++)
        {
            Conv(b.FpnLateral(level), fpn, stageOutputs[level - 2], 1);
            Conv(b.FpnOutput(level), fpn, fpn, 3);
        }

        var h = HeadNames.For(setup.Heads.Flavor);
        var c = setup.Heads;
        Conv(h.RpnConv, fpn, fpn, 3);
        Conv(h.RpnLogits, AnchorGenerator.PerCell, fpn, 1);
        Conv(h.RpnDeltas, AnchorGenerator.PerCell * 4, fpn, 1);
        Linear(h.BoxFc1, c.BoxHidden, fpn * 7 * 7);
        Linear(h.BoxFc2, c.BoxHidden, c.BoxHidden);
        Linear(h.ClassScore, c.ClassLogits, c.BoxHidden);
        Linear(h.BoxDeltas, c.BoxClasses * 4, c.BoxHidden);
        if (c.BilayerMask) BilayerKeys(keys, c);
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

    /// <summary>
    /// The Faster R-CNN port's bilayer head has BCNet FCOS's module (specs/bcnet.md §2.3), so its keys are that
    /// list's under detectron2's mask head, at the model's width (FCOS's is 256) and predictor channels.
    /// </summary>
    private static void BilayerKeys(Dictionary<string, int[]> keys, MaskRcnnConfig c)
    {
        const string fcos = "mask_head.";
        const int fcosWidth = 256;
        foreach (var (name, shape) in BcnetArchitecture.R50.ExpectedKeys.Where(k => k.Key.StartsWith(fcos, StringComparison.Ordinal)))
        {
            bool predictor = name.Contains("predictor", StringComparison.Ordinal);
            keys[HeadNames.MaskHeadModule + name[fcos.Length..]] =
                [.. shape.Select((d, i) => predictor && i == 0 ? c.MaskPredictorChannels : d == fcosWidth ? c.MaskChannels : d)];
        }
    }
}
