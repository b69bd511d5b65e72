using System.Text.Json.Nodes;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Layers;
using NativeSeg.Tests.Models;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// Small whole models of the Faster R-CNN family for CPU tests, filled in from an architecture's own key list: the
/// formula R50 bottom-up of BackboneWeights, the bilayer head of the 64-channel reference fixture (which
/// BilayerMaskHeadParityTests checks against PyTorch) wherever a key and shape match it, and hashed values for the
/// rest (FPN, RPN, box head, class-specific predictors), so the same key gets the same tensor in every model.
/// </summary>
internal sealed class BcnetFrcnnWeights(BcnetFixture fixture) : IDisposable
{
    private readonly List<Tensor> _owned = [];

    /// <summary>Inputs near 100 pixels, the fixture's width and a box head of 128; the low threshold keeps a dozen or so detections.</summary>
    public JsonObject Config(bool classAgnostic = true)
    {
        var config = new JsonObject
        {
            ["min_size"] = 96, ["max_size"] = 128, ["fpn_channels"] = fixture.Channels, ["mask_conv_dim"] = fixture.Channels,
            ["box_representation"] = 128, ["score_thresh"] = 0.02,
        };
        if (!classAgnostic) config["cls_agnostic_mask"] = false;
        return config;
    }

    /// <summary>The tensors of <paramref name="architecture"/> configured by <paramref name="config"/>; they live as long as this object.</summary>
    public Dictionary<string, Tensor> For(string architecture, JsonObject config)
    {
        var sources = new[]
        {
            BackboneWeights.Detectron2(),
            fixture.Weights.Where(w => w.Key.StartsWith("mask_head.", StringComparison.Ordinal))
                .ToDictionary(w => HeadNames.MaskHeadModule + w.Key["mask_head.".Length..], w => w.Value),
        };
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, shape) in MaskRcnnArchitecture.Configured(architecture, config).ExpectedKeys)
        {
            var known = sources.Select(s => s.GetValueOrDefault(name)).FirstOrDefault(t => t is not null && t.Shape.ToArray().SequenceEqual(shape));
            weights[name] = known ?? Hashed(name, shape);
        }
        return weights;
    }

    /// <summary>Writes a converted file of the architecture as `nativeseg convert --config` would.</summary>
    public Dictionary<string, Tensor> Write(string path, string architecture, JsonObject config)
    {
        var weights = For(architecture, config);
        var arch = MaskRcnnArchitecture.Configured(architecture, config);
        SafetensorsWriter.Write(path, weights.OrderBy(p => p.Key, StringComparer.Ordinal), new Dictionary<string, string>
        {
            ["architecture"] = arch.Name,
            ["config"] = arch.ConfigJson,
        });
        return weights;
    }

    // Fan-in-scaled weights keep activations O(1) through the heads; the class logits get a wider spread so the
    // softmax over 81 classes has winners above the score threshold.
    private Tensor Hashed(string name, int[] shape)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        double bound = name.EndsWith(".bias", StringComparison.Ordinal) ? 0.1 : Math.Sqrt(3.0 / (count / shape[0]));
        if (name.Contains("cls_score", StringComparison.Ordinal)) bound *= 8;
        var t = Tensor.FromArray(HashedWeights.Uniform(name, count, bound), shape);
        _owned.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
    }
}
