using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Layers.Parameters;

/// <summary>
/// Named weights as a model is built from them: each layer takes its tensors by name with the shape it
/// expects and gets them on the model's device. Names never taken are reported so a model cannot
/// silently ignore part of a checkpoint.
/// </summary>
/// <remarks>
/// A store either borrows its tensors (each take is a copy) or owns them (<see cref="Owning"/>): then a CPU model's
/// layer is handed the tensor itself, so a file's weights are copied once, from the file, on their way into a model.
/// </remarks>
public sealed class ParameterStore : IDisposable
{
    private readonly IReadOnlyDictionary<string, Tensor> _source;
    // Owned tensors not handed to a layer yet; null when the store borrows.
    private readonly Dictionary<string, Tensor>? _owned;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    /// <param name="source">CPU tensors by name (a safetensors file or a checkpoint's state dict); not owned.</param>
    public ParameterStore(IReadOnlyDictionary<string, Tensor> source, Device device)
    {
        _source = source;
        Device = device;
    }

    private ParameterStore(Dictionary<string, Tensor> owned, Device device)
    {
        _source = new Dictionary<string, Tensor>(owned, StringComparer.Ordinal);
        _owned = owned;
        Device = device;
    }

    public Device Device { get; }

    public bool Contains(string name) => _source.ContainsKey(name);

    /// <summary>
    /// A store that owns <paramref name="tensors"/> (CPU tensors by name, out of any tensor scope): a take hands the
    /// tensor over when <paramref name="device"/> is the CPU and moves it otherwise; disposing the store frees the
    /// tensors no layer took.
    /// </summary>
    public static ParameterStore Owning(Dictionary<string, Tensor> tensors, Device device) => new(tensors, device);

    /// <summary>The named tensor on the model's device, owned by the caller.</summary>
    /// <remarks>A name taken a second time from an owning store is a copy of what the first layer was handed.</remarks>
    public Tensor Take(string name, params int[] expectedShape)
    {
        if (!_source.TryGetValue(name, out var t))
            throw new KeyNotFoundException($"weights: missing '{name}' (expected shape {new Shape(expectedShape)})");
        if (t.Shape != new Shape(expectedShape))
            throw new ArgumentException($"weights: '{name}' has shape {t.Shape}, expected {new Shape(expectedShape)}");
        if (t.DType != DType.Float32)
            throw new ArgumentException($"weights: '{name}' is {t.DType.Name()}, expected float32");
        _taken.Add(name);
        if (_owned is null || !_owned.Remove(name, out var mine)) return t.To(Device);
        if (ReferenceEquals(mine.Device, Device)) return mine;
        using (mine) return mine.To(Device);
    }

    /// <summary>Names in the source that no layer took, excluding those matching <paramref name="ignored"/>.</summary>
    public IReadOnlyList<string> Unused(Func<string, bool>? ignored = null) =>
        _source.Keys.Where(k => !_taken.Contains(k) && !(ignored?.Invoke(k) ?? false)).Order(StringComparer.Ordinal).ToList();

    /// <summary>Frees the owned tensors no layer took; a borrowing store holds nothing to free.</summary>
    public void Dispose()
    {
        if (_owned is null) return;
        foreach (var t in _owned.Values) t.Dispose();
        _owned.Clear();
    }
}
