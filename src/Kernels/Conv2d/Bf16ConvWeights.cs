using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// A conv's weight rounded to bf16 and packed once, as <see cref="Bf16PanelKernel"/> reads it, for models compiled for
/// `--precision bf16`: per group, blocks of 8 filters, each [⌈C_g·R·S / 2⌉][8] pairs of taps (missing filters and the tap
/// past an odd count are zero). Half the float weight's memory. They are the weight's values when packed: a weight changed
/// afterwards needs them packed again.
/// </summary>
public sealed class Bf16ConvWeights : IDisposable
{
    private readonly Tensor _packed;

    private Bf16ConvWeights(Shape weightShape, int groups, Tensor packed)
    {
        WeightShape = weightShape;
        Groups = groups;
        _packed = packed;
    }

    /// <summary>The [K, C/groups, R, S] shape of the weight they were packed from.</summary>
    public Shape WeightShape { get; }

    public int Groups { get; }

    /// <summary>Packs a CPU float32 [K, C/groups, R, S] weight; the machine must run the kernel (<see cref="Bf16PanelKernel.Unavailable"/>).</summary>
    public static Bf16ConvWeights Pack(Tensor weight, int groups)
    {
        if (Bf16PanelKernel.Unavailable is { } why) throw new NotSupportedException($"bf16 convolutions cannot run here: {why}");
        Check.That(weight.Device.IsCpu && weight.DType == DType.Float32 && weight.Rank == 4, "conv2d",
            $"bf16 weights are packed from a CPU float32 [K, C, R, S] weight, got {weight.DType} {weight.Shape} on {weight.Device}");
        var s = weight.Shape;
        Check.That(groups >= 1 && s[0] % groups == 0, "conv2d", $"weight {s} has {s[0]} filters, which do not divide into {groups} groups");
        var g = new Conv2dGeometry(1, s[1] * groups, s[2], s[3], s[0], s[2], s[3], 1, 1, 0, 0, 1, 1, groups);
        int kg = s[0] / groups, kdim = s[1] * s[2] * s[3];
        int blocks = groups * ((kg + PanelKernel.Mr - 1) / PanelKernel.Mr);
        int pairs = Bf16PanelKernel.Pairs(kdim);
        var packed = TensorScope.Release(Tensor.Empty(new Shape(checked(blocks * PanelKernel.Mr * pairs)), DType.Int32, Device.Cpu));
        using var floats = Tensor.Empty(new Shape(checked(blocks * PanelKernel.Mr * kdim)), DType.Float32, Device.Cpu);
        unsafe
        {
            float* source = (float*)floats.Pointer;
            uint* target = (uint*)packed.Pointer;
            Conv2dImplicitGemm.PackWeights(g, Conv2dImplicitGemm.Strides.Contiguous(g), (float*)weight.Pointer, source, kg, kdim, blocks / groups);
            for (long block = 0; block < blocks; block++)
                Bf16PanelKernel.PackPairs(source + block * PanelKernel.Mr * kdim, PanelKernel.Mr, kdim, PanelKernel.Mr, target + block * PanelKernel.Mr * pairs);
        }
        return new Bf16ConvWeights(s, groups, packed);
    }

    internal unsafe Bf16PanelProduct Product => new((uint*)_packed.Pointer, WeightShape[1] * WeightShape[2] * WeightShape[3]);

    public void Dispose() => _packed.Dispose();
}
