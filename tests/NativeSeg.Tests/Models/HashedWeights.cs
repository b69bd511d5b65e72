using System.Globalization;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests.Models;

/// <summary>
/// The C# twin of tests/reference/hashed_weights.py: fixtures name a tensor, its shape and bound in their
/// metadata ("shape.NAME", "bound.NAME") instead of storing values too big to commit.
/// </summary>
internal static class HashedWeights
{
    public static uint Fnv1a(string name)
    {
        uint h = 0x811C9DC5;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name)) h = unchecked((h ^ b) * 0x01000193u);
        return h;
    }

    public static float[] Uniform(string name, long count, double bound)
    {
        uint seed = Fnv1a(name);
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            uint h = unchecked((uint)i * 0x9E3779B1u + seed);
            h ^= h >> 16;
            h = unchecked(h * 0x7FEB352Du);
            h ^= h >> 15;
            h = unchecked(h * 0x846CA68Bu);
            h ^= h >> 16;
            double u = h * (2.0 / 4294967296.0) - 1.0;
            values[i] = (float)(u * bound);
        }
        return values;
    }

    /// <summary>The named tensor as the fixture's metadata describes it.</summary>
    public static Tensor Load(IReadOnlyDictionary<string, string> metadata, string name)
    {
        int[] shape = metadata["shape." + name].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        double bound = double.Parse(metadata["bound." + name], CultureInfo.InvariantCulture);
        return Tensor.FromArray(Uniform(name, new Shape(shape).Numel, bound), shape);
    }

    /// <summary>Every tensor the metadata describes whose name starts with one of <paramref name="prefixes"/>.</summary>
    public static Dictionary<string, Tensor> LoadAll(IReadOnlyDictionary<string, string> metadata, params string[] prefixes) =>
        metadata.Keys.Where(k => k.StartsWith("shape.", StringComparison.Ordinal))
            .Select(k => k["shape.".Length..])
            .Where(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            .ToDictionary(n => n, n => Load(metadata, n));

    /// <summary>As <see cref="LoadAll"/>, each tensor plus its "offset.NAME" from the metadata where there is one.</summary>
    public static Dictionary<string, Tensor> LoadAllWithOffsets(IReadOnlyDictionary<string, string> metadata, params string[] prefixes)
    {
        var weights = LoadAll(metadata, prefixes);
        foreach (var (name, tensor) in weights)
        {
            if (!metadata.TryGetValue("offset." + name, out var text)) continue;
            float offset = float.Parse(text, CultureInfo.InvariantCulture);
            foreach (ref float v in tensor.AsSpan<float>()) v += offset;
        }
        return weights;
    }
}
