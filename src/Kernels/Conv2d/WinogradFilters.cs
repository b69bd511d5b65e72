using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// A 3×3 conv's filters transformed for the CPU's Winograd path (<see cref="Conv2dWinograd"/>), made once for a model
/// compiled for inference so each call skips the transform. 36/9 = 4× the weight's memory. Made on the first call that
/// runs Winograd where <see cref="TryPrepareOnFirstUse"/> made them: a model loads without transforming, and the convs
/// whose maps are too small for Winograd (ResNet's res4 and res5 on COCO-sized images) never hold a transform.
/// They are the weight's values when made: a weight changed afterwards needs them prepared again.
/// </summary>
public sealed class WinogradFilters : IDisposable
{
    // Guards the transform's one making: one model may be run by several threads.
    private readonly Lock _gate = new();
    private Tensor? _packed;
    private bool _disposed;

    private WinogradFilters(Shape weightShape) => WeightShape = weightShape;

    /// <summary>The [K, C, 3, 3] shape of the weight they were made from.</summary>
    public Shape WeightShape { get; }

    /// <summary>Whether the transform has been made (at once by <see cref="TryPrepare"/>, else by the first call that used it).</summary>
    public bool IsMade
    {
        get
        {
            lock (_gate) return _packed is not null;
        }
    }

    /// <summary>
    /// The transform of <paramref name="weight"/> for a conv with <paramref name="p"/>, made now, or null where the CPU
    /// path would not use Winograd for it (not a CPU weight, not 3×3 stride-1 ungrouped, too few channels, no AVX-512).
    /// </summary>
    public static WinogradFilters? TryPrepare(Tensor weight, Conv2dParams p)
    {
        var filters = TryPrepareOnFirstUse(weight, p);
        filters?.PackedFor(weight);
        return filters;
    }

    /// <summary>
    /// As <see cref="TryPrepare"/>, but made from the weight the first conv2d call that runs Winograd with them is given
    /// (the same weight, which the call checks by shape), so nothing is transformed until a map is large enough.
    /// </summary>
    public static WinogradFilters? TryPrepareOnFirstUse(Tensor weight, Conv2dParams p)
    {
        if (!weight.Device.IsCpu || weight.DType != DType.Float32 || weight.Rank != 4 || p.Padding.H < 0 || p.Padding.W < 0) return null;
        var s = weight.Shape;
        var g = new Conv2dGeometry(1, s[1] * p.Groups, 3, 3, s[0], s[2], s[3], p.Stride.H, p.Stride.W, p.Padding.H, p.Padding.W,
            p.Dilation.H, p.Dilation.W, p.Groups);
        return Conv2dWinograd.Applies(g) ? new WinogradFilters(s) : null;
    }

    /// <summary>The transform of a CPU float32 [K, C, 3, 3] weight, whatever its size, made now.</summary>
    internal static WinogradFilters Prepare(Tensor weight)
    {
        var filters = new WinogradFilters(weight.Shape);
        filters.PackedFor(weight);
        return filters;
    }

    /// <summary>The packed transform, made from <paramref name="weight"/> (of <see cref="WeightShape"/>) if not made yet.</summary>
    internal Tensor PackedFor(Tensor weight)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _packed ??= Transform(weight);
        }
    }

    private static Tensor Transform(Tensor weight)
    {
        var s = weight.Shape;
        var packed = TensorScope.Release(Tensor.Empty(new Shape(WinogradF43.Points * Conv2dWinograd.FilterBlocks(s[0]) * s[1] * PanelKernel.Mr), DType.Float32, Device.Cpu));
        unsafe
        {
            Conv2dWinograd.TransformFilters((float*)weight.Pointer, s[0], s[1], (float*)packed.Pointer);
        }
        return packed;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _packed?.Dispose();
            _packed = null;
        }
    }
}
