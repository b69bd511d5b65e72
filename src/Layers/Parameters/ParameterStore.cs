using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Layers.Parameters;

/// <summary>
/// Named weights as a model is built from them: each layer takes its tensors by name with the shape it
/// expects and gets them on the model's device. Names never taken are reported so a model cannot
/// silently ignore part of a checkpoint.
/// </summary>
public sealed class ParameterStore
{
    private readonly IReadOnlyDictionary<string, Tensor> _source;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    /// <param name="source">CPU tensors by name (a safetensors file or a checkpoint's state dict); not owned.</param>
    public ParameterStore(IReadOnlyDictionary<string, Tensor> source, Device device)
    {
        _source = source;
        Device = device;
    }

    public Device Device { get; }

    public bool Contains(string name) => _source.ContainsKey(name);

    /// <summary>A copy of the named tensor on the model's device, owned by the caller.</summary>
    public Tensor Take(string name, params int[] expectedShape)
    {
        if (!_source.TryGetValue(name, out var t))
            throw new KeyNotFoundException($"weights: missing '{name}' (expected shape {new Shape(expectedShape)})");
        if (t.Shape != new Shape(expectedShape))
            throw new ArgumentException($"weights: '{name}' has shape {t.Shape}, expected {new Shape(expectedShape)}");
        if (t.DType != DType.Float32)
            throw new ArgumentException($"weights: '{name}' is {t.DType.Name()}, expected float32");
        _taken.Add(name);
        return t.To(Device);
    }

    /// <summary>Names in the source that no layer took, excluding those matching <paramref name="ignored"/>.</summary>
    public IReadOnlyList<string> Unused(Func<string, bool>? ignored = null) =>
        _source.Keys.Where(k => !_taken.Contains(k) && !(ignored?.Invoke(k) ?? false)).Order(StringComparer.Ordinal).ToList();
}
