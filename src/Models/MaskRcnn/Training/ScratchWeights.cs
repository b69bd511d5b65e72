using System.Text.Json.Nodes;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// The weights a torchvision Mask R-CNN starts from when trained from scratch, drawn as torchvision 0.14 initialises
/// each layer: ResNet convs kaiming_normal_(fan_out, relu) with BatchNorm weight 1, bias 0, running mean 0 and
/// variance 1; FPN convs kaiming_uniform_(a=1) with zero bias; the RPN head N(0, 0.01²) with zero bias; the box
/// head's and box predictor's nn.Linear defaults (weight and bias U(±1/√fan_in)); the mask head's convs
/// kaiming_normal_(fan_out, relu) with zero bias; the mask predictor's weights kaiming_normal_(fan_out, relu) with
/// its biases left at the conv default U(±1/√fan_in). Seeded, so the same seed gives the same file.
/// </summary>
public static class ScratchWeights
{
    /// <summary>Writes a float32 INIT file for `nativeseg train`: every tensor of <paramref name="architecture"/> with <paramref name="config"/>.</summary>
    public static MaskRcnnArchitecture Write(string path, string architecture, JsonObject config, int seed)
    {
        var configured = MaskRcnnArchitecture.Configured(architecture, config);
        var setup = MaskRcnnArchitectures.FromMetadata(new Dictionary<string, string> { ["architecture"] = architecture, ["config"] = configured.ConfigJson }, path);
        if (!setup.Heads.Flavour.Trains || setup.Heads.Flavour.LayerInit != LayerInit.PyTorchDefaults || setup.Heads.BilayerMask || setup.Heads.MaskIou)
            throw new NotSupportedException($"{architecture}: initialising from scratch follows torchvision's rules and is implemented for the torchvision Mask R-CNNs, without a bilayer head");
        // The training settings too, so a broken one fails here rather than when training starts.
        MaskRcnnTrainingConfig.For(setup.Heads.Flavour, configured.ConfigJson, path);
        using var scope = TensorScope.Begin();
        var tensors = Draw(setup, configured.ExpectedKeys, seed);
        var metadata = new Dictionary<string, string>
        {
            ["architecture"] = architecture,
            ["config"] = configured.ConfigJson,
            ["source_format"] = "nativeseg init",
        };
        SafetensorsWriter.Write(path, configured.ExpectedKeys.Keys.Select(k => new KeyValuePair<string, Tensor>(k, tensors[k])), metadata);
        return configured;
    }

    /// <summary>CPU tensors for every key, drawn in the keys' order from one generator.</summary>
    public static Dictionary<string, Tensor> Draw(MaskRcnnSetup setup, IReadOnlyDictionary<string, int[]> keys, int seed)
    {
        var random = new Random(seed);
        var rules = Rules(setup);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, shape) in keys)
        {
            int dot = key.LastIndexOf('.');
            string module = key[..dot], field = key[(dot + 1)..];
            // A bias's bound comes from its weight's fan-in, which every layer registers first.
            var weight = keys.TryGetValue(module + ".weight", out var w) ? w : shape;
            tensors[key] = Initialise(rules.GetValueOrDefault(module, Rule.ResNet), field, shape, weight, random);
        }
        return tensors;
    }

    private enum Rule
    {
        ResNet,
        Fpn,
        Rpn,
        Linear,
        MaskConv,
        MaskPredictor,
    }

    /// <summary>The rule of each head and FPN module; the rest of the backbone is the ResNet body.</summary>
    private static Dictionary<string, Rule> Rules(MaskRcnnSetup setup)
    {
        var b = BackboneNames.For(setup.Backbone);
        var h = setup.Heads.Flavour.HeadNames;
        var rules = new Dictionary<string, Rule>(StringComparer.Ordinal)
        {
            [h.RpnConv] = Rule.Rpn, [h.RpnLogits] = Rule.Rpn, [h.RpnDeltas] = Rule.Rpn,
            [h.BoxFc1] = Rule.Linear, [h.BoxFc2] = Rule.Linear, [h.ClassScore] = Rule.Linear, [h.BoxDeltas] = Rule.Linear,
            [h.MaskDeconv] = Rule.MaskPredictor, [h.MaskPredictor] = Rule.MaskPredictor,
        };
        for (int level = 2; level <= 5; level++)
        {
            rules[b.FpnLateral(level)] = Rule.Fpn;
            rules[b.FpnOutput(level)] = Rule.Fpn;
        }
        for (int i = 1; i <= 4; i++) rules[h.MaskConv(i)] = Rule.MaskConv;
        return rules;
    }

    private static Tensor Initialise(Rule rule, string field, int[] shape, int[] weight, Random random)
    {
        // torch's fans: the weight's dimension 1 (fan-in) and 0 (fan-out) times the kernel's area, for conv, deconv and linear alike.
        long area = weight.Skip(2).Aggregate(1L, (a, d) => a * d);
        float fanIn = weight.Length > 1 ? weight[1] * area : 1, fanOut = weight[0] * area;
        int length = shape[0];
        return (rule, field) switch
        {
            (Rule.ResNet, "weight") when shape.Length == 1 => SeededTensors.Constant(1f, length),
            (Rule.ResNet, "running_var") => SeededTensors.Constant(1f, length),
            (Rule.ResNet or Rule.Fpn or Rule.Rpn or Rule.MaskConv, not "weight") => SeededTensors.Constant(0f, length),
            (Rule.ResNet or Rule.MaskConv or Rule.MaskPredictor, "weight") => SeededTensors.Normal(random, KaimingFanOutStd(fanOut), shape),
            // kaiming_uniform_(a=1): gain √(2/(1 + a²)) = 1, bound √3/√fan_in.
            (Rule.Fpn, "weight") => SeededTensors.Uniform(random, MathF.Sqrt(3f / fanIn), shape),
            (Rule.Rpn, "weight") => SeededTensors.Normal(random, 0.01f, shape),
            // nn.Linear's weight default, kaiming_uniform_(a=√5), is U(±1/√fan_in) as its bias.
            (Rule.Linear or Rule.MaskPredictor, _) => SeededTensors.Uniform(random, 1f / MathF.Sqrt(fanIn), shape),
            _ => throw new InvalidOperationException($"no initialisation for {rule} {field} {string.Join("x", shape)}"),
        };
    }

    /// <summary>kaiming_normal_(mode="fan_out", nonlinearity="relu"): std √2/√fan_out.</summary>
    private static float KaimingFanOutStd(float fanOut) => MathF.Sqrt(2f / fanOut);
}
