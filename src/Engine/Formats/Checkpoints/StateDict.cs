using System.Diagnostics.CodeAnalysis;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Checkpoints;

/// <summary>An ordered name → CPU tensor map read from a checkpoint. Disposing it disposes the tensors.</summary>
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _ordered = [];
    private readonly Dictionary<string, Tensor> _byName = new(StringComparer.Ordinal);

    internal StateDict(string path, string format)
    {
        Path = path;
        Format = format;
    }

    public string Path { get; }

    /// <summary>Which layout the file had, e.g. "torch zip", "detectron2 pkl", "mmcv".</summary>
    public string Format { get; }

    public IEnumerable<string> Keys => _ordered.Select(p => p.Key);

    public IEnumerable<Tensor> Values => _ordered.Select(p => p.Value);

    public int Count => _ordered.Count;

    public Tensor this[string key] =>
        _byName.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"{Path}: no tensor named '{key}'");

    public bool ContainsKey(string key) => _byName.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value) => _byName.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _ordered.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        foreach (var (_, t) in _ordered) t.Dispose();
        _ordered.Clear();
        _byName.Clear();
    }

    internal void Add(string name, Tensor tensor)
    {
        if (!_byName.TryAdd(name, tensor))
        {
            tensor.Dispose();
            throw new CheckpointFormatException(Path, $"tensor name '{name}' occurs twice (after removing any 'module.' prefix)");
        }
        _ordered.Add(new(name, tensor));
    }
}
