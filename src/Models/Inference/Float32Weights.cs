using System.Collections.Concurrent;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Inference;

/// <summary>
/// A converted file's tensors on the CPU in float32, owned until a model has taken them. Files converted with
/// --fp16 (or holding BF16) are widened as they are read; every model computes in float32.
/// </summary>
public sealed class Float32Weights : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private Float32Weights(Dictionary<string, Tensor> tensors) => _tensors = tensors;

    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>
    /// Every tensor of <paramref name="file"/>, read once from the mapped file straight into its float32 tensor, the
    /// largest first and in parallel: on a cold model, filling fresh pages is most of the load time.
    /// </summary>
    public static Float32Weights Load(SafetensorsFile file)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in file.Entries)
                tensors.Add(e.Name, TensorScope.Release(Tensor.Empty(e.Shape, file.Float32ReadType(e.Name), Device.Cpu)));
            var largestFirst = file.Entries.OrderByDescending(e => e.Length).Select(e => e.Name).ToList();
            Parallel.ForEach(Partitioner.Create(largestFirst, loadBalance: true), CpuThreads.Options, name => file.ReadInto(name, tensors[name]));
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return new Float32Weights(tensors);
    }

    /// <summary>
    /// Hands every tensor to a store that gives each to the layer taking it (a CPU model copies nothing more); this
    /// object is empty afterwards. The caller disposes the store, which frees what no layer took.
    /// </summary>
    public ParameterStore IntoStore(Device device)
    {
        var store = ParameterStore.Owning(new Dictionary<string, Tensor>(_tensors, StringComparer.Ordinal), device);
        _tensors.Clear();
        return store;
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
