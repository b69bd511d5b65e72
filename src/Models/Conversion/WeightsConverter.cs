using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Checkpoints;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Registry;

namespace NativeSeg.Models.Conversion;

/// <summary>Checkpoint keys or shapes that do not fit the architecture; the message lists every problem at once.</summary>
public sealed class ArchitectureMismatchException(string message) : Exception(message);

/// <summary>Checkpoint → key mapping → check against the architecture → one .safetensors file.</summary>
public static class WeightsConverter
{
    private const int ListedPerKind = 40;

    /// <summary>The share of matching keys above which an unrecognised checkpoint is reported against its closest architecture.</summary>
    private const double NearlyFits = 0.95;

    /// <summary>
    /// Converts <paramref name="input"/>; with <paramref name="fp16"/> float32 weights are stored as float16.
    /// Without an <paramref name="architecture"/> it is recognised from the checkpoint's keys and shapes.
    /// </summary>
    /// <returns>The architecture the file was written for.</returns>
    public static IArchitecture Convert(string input, string output, IArchitecture? architecture, bool fp16)
    {
        using var state = CheckpointReader.Load(input);
        architecture ??= Recognise(input, state, Architectures.All);
        var mapped = new List<KeyValuePair<string, Tensor>>();
        var converted = new List<Tensor>();
        try
        {
            var byName = MapKeys(input, architecture, state);
            Check(input, architecture, byName);
            // Registration order, so the file lists tensors the way the model declares them.
            foreach (var (name, _) in architecture.ExpectedKeys)
            {
                var tensor = byName[name];
                if (fp16 && tensor.DType == DType.Float32)
                {
                    tensor = ToHalf(tensor);
                    converted.Add(tensor);
                }
                mapped.Add(new(name, tensor));
            }
            var metadata = new Dictionary<string, string>
            {
                ["architecture"] = architecture.Name,
                ["config"] = architecture.ConfigJson,
                ["source_format"] = state.Format,
            };
            SafetensorsWriter.Write(output, mapped, metadata);
            return architecture;
        }
        finally
        {
            foreach (var t in converted) t.Dispose();
        }
    }

    /// <summary>
    /// The one candidate whose every expected key the checkpoint holds in the expected shape, with no key
    /// left over. When none fits exactly the error names the closest candidates, so a user can see whether
    /// the file is a variant of a known model or something else entirely.
    /// </summary>
    public static IArchitecture Recognise(string input, IReadOnlyDictionary<string, Tensor> weights, IEnumerable<IArchitecture> candidates)
    {
        var scored = new List<(IArchitecture Architecture, double Fit)>();
        foreach (var candidate in candidates)
        {
            Dictionary<string, Tensor> byName;
            try
            {
                byName = MapKeys(input, candidate, weights);
            }
            catch (ArchitectureMismatchException)
            {
                continue;
            }
            int matching = candidate.ExpectedKeys.Count(e => byName.TryGetValue(e.Key, out var t) && t.Shape.Dims.SequenceEqual(e.Value));
            int union = candidate.ExpectedKeys.Count + byName.Keys.Count(k => !candidate.ExpectedKeys.ContainsKey(k));
            scored.Add((candidate, union == 0 ? 0 : (double)matching / union));
        }
        var exact = scored.Where(s => s.Fit == 1).Select(s => s.Architecture).ToList();
        if (exact.Count == 1) return exact[0];
        if (exact.Count > 1)
            throw new ArchitectureMismatchException(
                $"{input} fits several architectures ({string.Join(", ", exact.Select(a => a.Name))}); choose one with --arch");
        var ranked = scored.OrderByDescending(s => s.Fit).ToList();
        // A checkpoint that is nearly one known model is most likely that model with a few keys lost or renamed:
        // name them rather than only the candidates.
        if (ranked.Count > 0 && ranked[0].Fit >= NearlyFits)
        {
            try
            {
                Check(input, ranked[0].Architecture, MapKeys(input, ranked[0].Architecture, weights));
            }
            catch (ArchitectureMismatchException e)
            {
                throw new ArchitectureMismatchException(
                    $"{input}: cannot recognise the architecture from its keys; it is nearly {ranked[0].Architecture.Name} ({ranked[0].Fit:P0} of keys match). {e.Message}");
            }
        }
        var closest = ranked.Take(3).Select(s => $"{s.Architecture.Name} ({s.Fit:P0} of keys match)");
        throw new ArchitectureMismatchException(
            $"{input}: cannot recognise the architecture from its keys; closest: {string.Join(", ", closest)}. "
            + "Pass --arch to see every missing, unexpected and mis-shaped key");
    }

    private static Dictionary<string, Tensor> MapKeys(string input, IArchitecture architecture, IReadOnlyDictionary<string, Tensor> state)
    {
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in state)
        {
            string? name = architecture.MapKey(key);
            if (name is null) continue;
            if (!byName.TryAdd(name, tensor)) throw new ArchitectureMismatchException($"{input}: keys map to '{name}' twice");
        }
        return byName;
    }

    /// <summary>Throws one error naming every missing, unexpected and mis-shaped key.</summary>
    public static void Check(string input, IArchitecture architecture, IReadOnlyDictionary<string, Tensor> weights)
    {
        var expected = architecture.ExpectedKeys;
        var missing = expected.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var misshaped = expected.Where(e => weights.TryGetValue(e.Key, out var t) && !t.Shape.Dims.SequenceEqual(e.Value))
            .Select(e => $"{e.Key}: checkpoint {weights[e.Key].Shape}, model [{string.Join(", ", e.Value)}]").ToList();
        if (missing.Count + unexpected.Count + misshaped.Count == 0) return;
        var message = new System.Text.StringBuilder($"{input} does not match architecture {architecture.Name}:");
        Append(message, "missing", missing);
        Append(message, "unexpected", unexpected);
        Append(message, "wrong shape", misshaped);
        throw new ArchitectureMismatchException(message.ToString());
    }

    private static void Append(System.Text.StringBuilder message, string kind, List<string> items)
    {
        if (items.Count == 0) return;
        message.Append($"\n  {items.Count} {kind}:");
        foreach (string item in items.Take(ListedPerKind)) message.Append("\n    ").Append(item);
        if (items.Count > ListedPerKind) message.Append($"\n    ... and {items.Count - ListedPerKind} more");
    }

    /// <summary>A float16 CPU copy of a float32 CPU tensor.</summary>
    internal static Tensor ToHalf(Tensor source)
    {
        var half = Tensor.Empty(source.Shape, DType.Float16, Device.Cpu);
        var from = source.AsSpan<float>();
        var to = half.AsSpan<Half>();
        for (int i = 0; i < from.Length; i++) to[i] = (Half)from[i];
        return half;
    }
}
