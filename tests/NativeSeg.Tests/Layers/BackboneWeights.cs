using System.Text.RegularExpressions;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests.Layers;

/// <summary>
/// The deterministic R50-FPN weights of tests/reference/make_backbone_fixtures.py (see its docstring for the
/// formula), under torchvision 0.14's state-dict names, and the same tensors renamed to the other layouts.
/// </summary>
internal static partial class BackboneWeights
{
    private const double Golden = 2.399963229728653;

    private static readonly Lazy<IReadOnlyDictionary<string, Tensor>> Shared = new(Build);

    /// <summary>Built once per test run and never disposed: tests only read them.</summary>
    public static IReadOnlyDictionary<string, Tensor> Torchvision => Shared.Value;

    /// <summary>The spec's §2.3 renaming of the backbone keys; num_batches_tracked dropped, as detectron2 has none.</summary>
    public static IReadOnlyDictionary<string, Tensor> Detectron2() => Detectron2(Torchvision);

    /// <summary>
    /// <paramref name="torchvision"/>'s backbone tensors (an R50-FPN under torchvision's names) under detectron2's;
    /// its other tensors are left out. The tensors are shared, not copied.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> Detectron2(IReadOnlyDictionary<string, Tensor> torchvision) => Rename(torchvision, name =>
    {
        if (!name.StartsWith("backbone.", StringComparison.Ordinal)) return null;
        if (name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) return null;
        name = name.Replace("backbone.body.conv1.", "backbone.bottom_up.stem.conv1.", StringComparison.Ordinal)
            .Replace("backbone.body.bn1.", "backbone.bottom_up.stem.conv1.norm.", StringComparison.Ordinal);
        name = LayerPattern().Replace(name, m => $"backbone.bottom_up.res{int.Parse(m.Groups[1].Value) + 1}.");
        name = BlockNormPattern().Replace(name, m => $".conv{m.Groups[1].Value}.norm.");
        name = name.Replace(".downsample.0.", ".shortcut.", StringComparison.Ordinal).Replace(".downsample.1.", ".shortcut.norm.", StringComparison.Ordinal);
        name = FpnPattern().Replace(name, m => $"backbone.fpn_{(m.Groups[1].Value == "inner" ? "lateral" : "output")}{int.Parse(m.Groups[2].Value) + 2}.");
        return name;
    });

    /// <summary>maskrcnn-benchmark's names: the stem under body.stem, FPN convs as fpn_inner/fpn_layer numbered from 1.</summary>
    public static IReadOnlyDictionary<string, Tensor> MaskRcnnBenchmark() => MaskRcnnBenchmark(Torchvision);

    /// <summary>
    /// <paramref name="torchvision"/>'s backbone tensors under maskrcnn-benchmark's names; its other tensors are left
    /// out. The tensors are shared, not copied.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> MaskRcnnBenchmark(IReadOnlyDictionary<string, Tensor> torchvision) => Rename(torchvision, name =>
    {
        if (!name.StartsWith("backbone.", StringComparison.Ordinal) || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) return null;
        name = name.Replace("backbone.body.conv1.", "backbone.body.stem.conv1.", StringComparison.Ordinal)
            .Replace("backbone.body.bn1.", "backbone.body.stem.bn1.", StringComparison.Ordinal);
        return FpnPattern().Replace(name, m => $"backbone.fpn.fpn_{(m.Groups[1].Value == "inner" ? "inner" : "layer")}{int.Parse(m.Groups[2].Value) + 1}.");
    });

    /// <summary>
    /// The same formula over torchvision's ResNet-18 body (basic blocks, no projection in layer1) under an FPN
    /// of <paramref name="fpnChannels"/> channels, as tests/reference/make_resnet18_fixtures.py builds it.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> TorchvisionResNet18(int fpnChannels)
    {
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Conv(weights, "backbone.body.conv1", 64, 3, 7);
        Norm(weights, "backbone.body.bn1", 64);
        int inChannels = 64;
        for (int layer = 1; layer <= 4; layer++)
        {
            int outChannels = 64 << (layer - 1);
            for (int b = 0; b < 2; b++)
            {
                string p = $"backbone.body.layer{layer}.{b}";
                Conv(weights, p + ".conv1", outChannels, b == 0 ? inChannels : outChannels, 3);
                Norm(weights, p + ".bn1", outChannels);
                Conv(weights, p + ".conv2", outChannels, outChannels, 3);
                Norm(weights, p + ".bn2", outChannels);
                if (b == 0 && layer > 1)
                {
                    Conv(weights, p + ".downsample.0", outChannels, inChannels, 1);
                    Norm(weights, p + ".downsample.1", outChannels);
                }
            }
            inChannels = outChannels;
        }
        for (int j = 0; j < 4; j++)
        {
            Conv(weights, $"backbone.fpn.inner_blocks.{j}.0", fpnChannels, 64 << j, 1, bias: true);
            Conv(weights, $"backbone.fpn.layer_blocks.{j}.0", fpnChannels, fpnChannels, 3, bias: true);
        }
        return weights;
    }

    private static void Conv(Dictionary<string, Tensor> weights, string name, int o, int i, int k, bool bias = false)
    {
        weights.Add(name + ".weight", Formula(name + ".weight", o, i, k, k));
        if (bias) weights.Add(name + ".bias", Formula(name + ".bias", o));
    }

    private static void Norm(Dictionary<string, Tensor> weights, string name, int c)
    {
        foreach (string field in new[] { "weight", "bias", "running_mean", "running_var" })
            weights.Add($"{name}.{field}", Formula($"{name}.{field}", c));
        weights.Add(name + ".num_batches_tracked", Tensor.FromArray(new long[] { 0 }));
    }

    private static Dictionary<string, Tensor> Rename(IReadOnlyDictionary<string, Tensor> source, Func<string, string?> rename)
    {
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in source)
        {
            if (rename(name) is string target) renamed.Add(target, tensor);
        }
        return renamed;
    }

    private static IReadOnlyDictionary<string, Tensor> Build()
    {
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        void Conv(string name, int o, int i, int k, bool bias = false) => BackboneWeights.Conv(weights, name, o, i, k, bias);
        void Norm(string name, int c) => BackboneWeights.Norm(weights, name, c);
        Conv("backbone.body.conv1", 64, 3, 7);
        Norm("backbone.body.bn1", 64);
        int[] blocks = [3, 4, 6, 3];
        int inChannels = 64;
        for (int layer = 1; layer <= 4; layer++)
        {
            int width = 64 << (layer - 1), outChannels = width * 4;
            for (int b = 0; b < blocks[layer - 1]; b++)
            {
                string p = $"backbone.body.layer{layer}.{b}";
                Conv(p + ".conv1", width, b == 0 ? inChannels : outChannels, 1);
                Norm(p + ".bn1", width);
                Conv(p + ".conv2", width, width, 3);
                Norm(p + ".bn2", width);
                Conv(p + ".conv3", outChannels, width, 1);
                Norm(p + ".bn3", outChannels);
                if (b == 0)
                {
                    Conv(p + ".downsample.0", outChannels, inChannels, 1);
                    Norm(p + ".downsample.1", outChannels);
                }
            }
            inChannels = outChannels;
        }
        for (int j = 0; j < 4; j++)
        {
            Conv($"backbone.fpn.inner_blocks.{j}.0", 256, 256 << j, 1, bias: true);
            Conv($"backbone.fpn.layer_blocks.{j}.0", 256, 256, 3, bias: true);
        }
        return weights;
    }

    private static Tensor Formula(string name, params int[] shape)
    {
        int seed = 0;
        for (int i = 0; i < name.Length; i++) seed = (seed + (i + 1) * name[i]) % 9973;
        var t = Tensor.Empty(Device.Cpu, DType.Float32, shape);
        var values = t.AsSpan<float>();
        bool isNorm = name.Contains(".bn", StringComparison.Ordinal) || name.Contains(".downsample.1.", StringComparison.Ordinal);
        double fanIn = shape.Length == 4 ? shape[1] * shape[2] * shape[3] : 0;
        for (int j = 0; j < values.Length; j++)
        {
            double u = Math.Sin(j * Golden + 0.1 * seed);
            values[j] = (float)(name.EndsWith("running_var", StringComparison.Ordinal) ? 1.0 + 0.5 * u
                : name.EndsWith("running_mean", StringComparison.Ordinal) ? 0.1 * u
                : shape.Length == 4 ? 2.0 / Math.Sqrt(fanIn) * u
                : isNorm ? (name.EndsWith(".weight", StringComparison.Ordinal) ? 0.5 + 0.3 * u : 0.1 * u)
                : 0.05 * u);
        }
        return t;
    }

    [GeneratedRegex(@"^backbone\.body\.layer(\d)\.")]
    private static partial Regex LayerPattern();

    [GeneratedRegex(@"\.bn(\d)\.")]
    private static partial Regex BlockNormPattern();

    [GeneratedRegex(@"^backbone\.fpn\.(inner|layer)_blocks\.(\d)\.0\.")]
    private static partial Regex FpnPattern();
}
