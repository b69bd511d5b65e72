using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;
using NativeSeg.Kernels.Elementwise;

namespace NativeSeg.Layers.Modules;

/// <summary>What a parameter is for: trained by the optimiser, or state that is saved and loaded but never trained.</summary>
public enum ParameterKind
{
    /// <summary>A weight or bias; trainable unless frozen.</summary>
    Weight,

    /// <summary>Running statistics and the like (BatchNorm's running_mean/var): part of a checkpoint, never trained.</summary>
    Buffer,
}

/// <summary>
/// One named tensor of a module, under the key it has in its checkpoint (e.g. <c>backbone.body.layer1.0.conv1.weight</c>),
/// so loading, saving and resuming all speak the upstream framework's names. Owns its value and its gradient.
/// </summary>
public sealed class Parameter : IDisposable
{
    private Tensor _value;

    /// <summary>Takes ownership of <paramref name="value"/> and takes it out of any tensor scope.</summary>
    public Parameter(string key, Tensor value, ParameterKind kind = ParameterKind.Weight)
    {
        Key = key;
        Kind = kind;
        _value = TensorScope.Release(value);
        Frozen = kind == ParameterKind.Buffer;
    }

    public string Key { get; }

    public ParameterKind Kind { get; }

    public Tensor Value => _value;

    public Shape Shape => _value.Shape;

    /// <summary>Excluded from training: no gradient is computed for it and the optimiser leaves it alone.</summary>
    public bool Frozen { get; set; }

    public bool RequiresGrad => !Frozen && Kind == ParameterKind.Weight;

    /// <summary>The gradient accumulated since the last <see cref="ZeroGrad"/>, on the value's device; null when none flowed.</summary>
    public Tensor? Grad { get; private set; }

    /// <summary>Replaces the value (a load, a fold, a device move) with a tensor of the same shape; disposes the old one.</summary>
    public void Assign(Tensor value)
    {
        if (value.Shape != _value.Shape || value.DType != _value.DType)
            throw new ArgumentException($"parameter {Key}: new value {value.Shape} {value.DType.Name()} does not match {_value.Shape} {_value.DType.Name()}");
        var old = _value;
        _value = TensorScope.Release(value);
        old.Dispose();
    }

    /// <summary>Replaces the value by its conversion to <paramref name="dtype"/> (float16 weights of a model compiled for fp16).</summary>
    public void ConvertTo(DType dtype)
    {
        if (_value.DType == dtype) return;
        var old = _value;
        _value = TensorScope.Release(Cast.To(old, dtype));
        old.Dispose();
    }

    /// <summary>Copies <paramref name="source"/> (any device) into the value in place.</summary>
    public void CopyFrom(Tensor source)
    {
        if (source.Shape != _value.Shape || source.DType != _value.DType)
            throw new ArgumentException($"parameter {Key}: {source.Shape} {source.DType.Name()} cannot be loaded into {_value.Shape} {_value.DType.Name()}");
        _value.CopyFrom(source);
    }

    /// <summary>Moves the value to <paramref name="device"/>; the gradient is dropped.</summary>
    public void MoveTo(Device device)
    {
        if (ReferenceEquals(_value.Device, device)) return;
        ZeroGrad();
        Assign(_value.To(device));
    }

    /// <summary>Adds <paramref name="gradient"/> to <see cref="Grad"/>, taking ownership of it when there was none.</summary>
    public void AccumulateGrad(Tensor gradient)
    {
        if (gradient.Shape != _value.Shape)
            throw new ArgumentException($"parameter {Key}: gradient {gradient.Shape} does not match the value {_value.Shape}");
        if (Grad is null)
        {
            Grad = TensorScope.Release(gradient);
            return;
        }
        var sum = TensorScope.Release(Arithmetic.Add(Grad, gradient));
        Grad.Dispose();
        gradient.Dispose();
        Grad = sum;
    }

    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    public override string ToString() => $"{Key} {Shape}{(Frozen ? " frozen" : "")}";

    public void Dispose()
    {
        ZeroGrad();
        _value.Dispose();
    }
}
