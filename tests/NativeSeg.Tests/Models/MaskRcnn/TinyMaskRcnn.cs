using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Layers;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Whole R50-FPN Mask R-CNN files for tests that run a model end to end on the CPU: the formula backbone of
/// BackboneWeights and the Mask R-CNN fixture's hashed torchvision heads, with a config that shrinks inputs
/// to about 100 pixels.
/// </summary>
internal static class TinyMaskRcnn
{
    public const string Config = """{"min_size": 96, "max_size": 128, "norm_eps": 1e-5, "score_thresh": 0.2}""";

    /// <summary>The torchvision heads' hashed weights under their torchvision names; the caller disposes them.</summary>
    public static Dictionary<string, Tensor> TorchvisionHeads()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision.safetensors"));
        return HashedWeights.LoadAll(fixture.Metadata, "rpn.", "roi_heads.");
    }

    public static void WriteTorchvision(string path)
    {
        var heads = TorchvisionHeads();
        try
        {
            Write(path, MaskRcnnArchitectures.Torchvision, BackboneWeights.Torchvision.Concat(heads));
        }
        finally
        {
            foreach (var t in heads.Values) t.Dispose();
        }
    }

    public static void Write(string path, string architecture, IEnumerable<KeyValuePair<string, Tensor>> weights) =>
        SafetensorsWriter.Write(path, weights.OrderBy(p => p.Key, StringComparer.Ordinal), new Dictionary<string, string>
        {
            ["architecture"] = architecture,
            ["config"] = Config,
        });
}
