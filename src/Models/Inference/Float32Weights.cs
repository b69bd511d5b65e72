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
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string name in file.Names)
            {
                var t = file.Load(name);
                if (t.DType == DType.Float16)
                {
                    var half = t;
                    t = Cast.To(half, DType.Float32);
                    half.Dispose();
                }
                tensors[name] = t;
            }
            return new Float32Weights(tensors);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
