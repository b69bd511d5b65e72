using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bpr;
using NativeSeg.Tests.Models;

namespace NativeSeg.Tests.Bpr;

/// <summary>What the BPR fixtures (tests/reference/make_bpr_fixtures.py) describe instead of storing: hashed weights and inputs.</summary>
internal static class BprFixture
{
    /// <summary>The fixture's hashed hr18s weights (offset + uniform), by checkpoint key.</summary>
    public static Dictionary<string, Tensor> Weights(IReadOnlyDictionary<string, string> meta) =>
        HashedWeights.LoadAllWithOffsets(meta, "backbone.", "decode_head.");

    /// <summary>The hr18s network over the fixture's weights, raw (BatchNorms unfolded) or compiled for inference.</summary>
    public static BprNetwork Network(IReadOnlyDictionary<string, string> meta, bool compiled)
    {
        var store = new ParameterStore(Weights(meta), Device.Cpu);
        return compiled ? BprNetwork.LoadForInference(store, BprConfig.Hr18s) : new BprNetwork(store, BprConfig.Hr18s);
    }

    /// <summary>
    /// make_bpr_fixtures.hashed_input: per patch three image channels uniform in [−2, 2) and the sign of a hashed value
    /// as the mask channel, [N, 4, S, S].
    /// </summary>
    public static Tensor Input(IReadOnlyDictionary<string, string> meta, string name)
    {
        var size = meta["input." + name].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int n = size[0], side = size[1], plane = side * side;
        var image = HashedWeights.Uniform(name + ".image", (long)n * 3 * plane, 2.0);
        var mask = HashedWeights.Uniform(name + ".mask", (long)n * plane, 1.0);
        var values = new float[n * 4 * plane];
        for (int i = 0; i < n; i++)
        {
            image.AsSpan(i * 3 * plane, 3 * plane).CopyTo(values.AsSpan(i * 4 * plane));
            for (int p = 0; p < plane; p++) values[(i * 4 + 3) * plane + p] = mask[i * plane + p] >= 0 ? 1f : -1f;
        }
        return Tensor.FromArray(values, n, 4, side, side);
    }
}
