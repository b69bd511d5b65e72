using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Checkpoints;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Models.Conversion;

/// <summary>Checkpoint keys or shapes that do not fit the architecture; the message lists every problem at once.</summary>
public sealed class ArchitectureMismatchException(string message) : Exception(message);

/// <summary>Checkpoint → key mapping → check against the architecture → one .safetensors file.</summary>
public static class WeightsConverter
{
    private const int ListedPerKind = 40;

    /// <summary>Converts <paramref name="input"/>; with <paramref name="fp16"/> float32 weights are stored as float16.</summary>
    public static void Convert(string input, string output, IArchitecture architecture, bool fp16)
    {
        using var state = CheckpointReader.Load(input);
        var mapped = new List<KeyValuePair<string, Tensor>>();
        var converted = new List<Tensor>();
        try
        {
            var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (key, tensor) in state)
            {
                string? name = architecture.MapKey(key);
                if (name is null) continue;
                if (!byName.TryAdd(name, tensor)) throw new ArchitectureMismatchException($"{input}: keys map to '{name}' twice");
            }
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
        }
        finally
        {
            foreach (var t in converted) t.Dispose();
        }
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

    private static Tensor ToHalf(Tensor source)
    {
        var half = Tensor.Empty(source.Shape, DType.Float16, Device.Cpu);
        var from = source.AsSpan<float>();
        var to = half.AsSpan<Half>();
        for (int i = 0; i < from.Length; i++) to[i] = (Half)from[i];
        return half;
    }
}
