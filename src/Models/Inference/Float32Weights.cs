using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;

namespace NativeSeg.Models.Inference;

/// <summary>
/// A converted file's tensors on the CPU in float32, owned until a model has taken its copies. Files
/// converted with --fp16 are widened once here; every model computes in float32.
/// </summary>
public sealed class Float32Weights : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private Float32Weights(Dictionary<string, Tensor> tensors) => _tensors = tensors;

    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    public static Float32Weights Load(SafetensorsFile file)
    {
        // The scope frees every tensor read so far if a later one fails.
        using var scope = TensorScope.Begin();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string name in file.Names)
        {
            var t = file.Load(name);
            if (t.DType == DType.Float16)
            {
                using var half = t;
                t = Cast.To(half, DType.Float32);
            }
            tensors[name] = TensorScope.Release(t);
        }
        return new Float32Weights(tensors);
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
