using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// A 3×3 conv's filters transformed for the CPU's Winograd path (<see cref="Conv2dWinograd"/>), made once where a
/// model is compiled for inference so each call skips the transform. 36/9 = 4× the weight's memory.
/// They are the weight's values when prepared: a weight changed afterwards needs them prepared again.
/// </summary>
public sealed class WinogradFilters : IDisposable
{
    private readonly Tensor _packed;

    private WinogradFilters(Tensor packed, Shape weightShape)
    {
        _packed = packed;
        WeightShape = weightShape;
    }

    /// <summary>The [K, C, 3, 3] shape of the weight they were made from.</summary>
    public Shape WeightShape { get; }

    internal Tensor Packed => _packed;

    /// <summary>
    /// The transform of <paramref name="weight"/> for a conv with <paramref name="p"/>, or null where the CPU path
    /// would not use Winograd for it (not a CPU weight, not 3×3 stride-1 ungrouped, too few channels, no AVX-512).
    /// </summary>
    public static WinogradFilters? TryPrepare(Tensor weight, Conv2dParams p)
    {
        if (!weight.Device.IsCpu || weight.DType != DType.Float32 || weight.Rank != 4 || p.Padding.H < 0 || p.Padding.W < 0) return null;
        var s = weight.Shape;
        var g = new Conv2dGeometry(1, s[1] * p.Groups, 3, 3, s[0], s[2], s[3], p.Stride.H, p.Stride.W, p.Padding.H, p.Padding.W,
            p.Dilation.H, p.Dilation.W, p.Groups);
        return Conv2dWinograd.Applies(g) ? Prepare(weight) : null;
    }

    /// <summary>The transform of a CPU float32 [K, C, 3, 3] weight, whatever its size.</summary>
    internal static WinogradFilters Prepare(Tensor weight)
    {
        var s = weight.Shape;
        var packed = Tensor.Empty(new Shape(WinogradF43.Points * Conv2dWinograd.FilterBlocks(s[0]) * s[1] * PanelKernel.Mr), DType.Float32, Device.Cpu);
        unsafe
        {
            Conv2dWinograd.TransformFilters((float*)weight.Pointer, s[0], s[1], (float*)packed.Pointer);
        }
        return new WinogradFilters(packed, s);
    }

    public void Dispose() => _packed.Dispose();
}
