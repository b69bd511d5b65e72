using System.Globalization;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Layers;
using NativeSeg.Tests.Models;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// tests/reference/fixtures/bcnet_fcos.safetensors (make_bcnet_fixtures.py): hashed weights and P3–P5 from the
/// metadata, the 1-D parameters stored as "w:NAME", and the reference outputs.
/// </summary>
internal sealed class BcnetFixture : IDisposable
{
    public BcnetFixture()
    {
        File = SafetensorsFile.Open(FixturePaths.Fixture("bcnet_fcos.safetensors"));
        var meta = File.Metadata;
        Weights = HashedWeights.LoadAll(meta, "backbone.", "head.", "mask_head.");
        foreach (var name in File.Names.Where(n => n.StartsWith("w:", StringComparison.Ordinal)))
            Weights[name[2..]] = File.Load(name);
        Features = new[] { "p3", "p4", "p5" }.Select(n => HashedWeights.Load(meta, "feature." + n)).ToList();
        Channels = int.Parse(meta["channels"], CultureInfo.InvariantCulture);
        InferenceThreshold = float.Parse(meta["inference_th"], CultureInfo.InvariantCulture);
    }

    public SafetensorsFile File { get; }

    public Dictionary<string, Tensor> Weights { get; }

    /// <summary>P3, P4, P5.</summary>
    public List<Tensor> Features { get; }

    public int Channels { get; }

    public float InferenceThreshold { get; }

    /// <summary>
    /// A whole converted bcnet-fcos-r50-fpn file's tensors: the fixture's heads, the hashed detectron2 R50 bottom-up
    /// and a hashed res3–res5 FPN at the fixture's width. The tensors made here are added to <paramref name="owned"/>.
    /// </summary>
    public Dictionary<string, Tensor> WholeModel(List<Tensor> owned)
    {
        var weights = new Dictionary<string, Tensor>(Weights, StringComparer.Ordinal);
        foreach (var (name, t) in BackboneWeights.Detectron2().Where(w => w.Key.StartsWith("backbone.bottom_up.", StringComparison.Ordinal)))
            weights[name] = t;
        int[] stageChannels = [512, 1024, 2048];
        for (int level = 3; level <= 5; level++)
        {
            int inputs = stageChannels[level - 3];
            Add($"backbone.fpn_lateral{level}.weight", HashedWeights.Uniform($"lateral{level}", Channels * inputs, Math.Sqrt(3.0 / inputs)), Channels, inputs, 1, 1);
            Add($"backbone.fpn_lateral{level}.bias", HashedWeights.Uniform($"lateral{level}.bias", Channels, 0.1), Channels);
            Add($"backbone.fpn_output{level}.weight", HashedWeights.Uniform($"output{level}", Channels * Channels * 9, Math.Sqrt(3.0 / (Channels * 9))), Channels, Channels, 3, 3);
            Add($"backbone.fpn_output{level}.bias", HashedWeights.Uniform($"output{level}.bias", Channels, 0.1), Channels);
        }
        return weights;

        void Add(string name, float[] values, params int[] shape) => owned.Add(weights[name] = Tensor.FromArray(values, shape));
    }

    /// <summary>Writes <see cref="WholeModel"/> as a converted bcnet-fcos-r50-fpn file.</summary>
    public static void WriteWholeModel(string path)
    {
        using var fx = new BcnetFixture();
        var owned = new List<Tensor>();
        try
        {
            SafetensorsWriter.Write(path, fx.WholeModel(owned).OrderBy(p => p.Key, StringComparer.Ordinal),
                new Dictionary<string, string> { ["architecture"] = NativeSeg.Models.Bcnet.BcnetArchitecture.FcosR50Fpn });
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    public float[] Floats(string name)
    {
        using var t = File.Load(name);
        return t.ToArray<float>();
    }

    public long[] Longs(string name)
    {
        using var t = File.Load(name);
        return t.ToArray<long>();
    }

    /// <summary>
    /// max |a − b| / (|b| + max(1e-2·max|b|, 1e-2)): relative error, with a floor so that outputs near zero are
    /// not judged relatively: a float32 sum of hundreds of O(1) terms carries ~1e-6 absolute rounding whatever
    /// its result, so a 1e-4 relative bound on a 1e-4 output would ask for more than float32 gives.
    /// </summary>
    public static void AssertClose(float[] expected, Tensor actual, double tolerance, string what)
    {
        var got = actual.ToArray<float>();
        Assert.Equal(expected.Length, got.Length);
        double floor = Math.Max(1e-2 * expected.Max(v => Math.Abs(v)), 1e-2);
        double worst = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(got[i] - expected[i]) / (Math.Abs(expected[i]) + floor);
            if (err > worst) (worst, at) = (err, i);
        }
        Assert.True(worst <= tolerance, $"{what}: relative error {worst:g3} at {at} (reference {expected[at]}, ours {got[at]})");
    }

    public void Dispose()
    {
        foreach (var w in Weights.Values) w.Dispose();
        foreach (var f in Features) f.Dispose();
        File.Dispose();
    }
}
