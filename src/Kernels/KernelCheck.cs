using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels;

/// <summary>
/// One reproducible exercise of an op: seeded random inputs, run on a device, outputs copied back to
/// the CPU. Running the same check on the CPU and on a CUDA device (real, or the tests' host emulation)
/// and comparing the outputs is how every kernel is verified against its CPU twin: the tests do it
/// under emulation, <c>nativeseg kernels verify</c> does it on a GPU.
/// </summary>
public abstract class KernelCheck
{
    /// <summary>Unique name, "op/case", e.g. "roi_align/aligned-boxes-outside".</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The tolerance of the fp16 path's checks: device and twin round the same half operands, but sum their products in
    /// a different order, so a float sum on either side of a rounding boundary lands one half ulp (2⁻¹¹ relative) apart;
    /// two such steps (the output, and the input of a later op) stay under 2e-3.
    /// </summary>
    public const double HalfPrecisionTolerance = 2e-3;

    /// <summary>Largest allowed relative error: max|a−b| / max(1, max|reference|), per output.</summary>
    public virtual double Tolerance => 1e-4;

    /// <summary>Runs the op on <paramref name="device"/> and returns its outputs on the CPU (caller disposes).</summary>
    public abstract IReadOnlyList<Tensor> Run(Device device);

    public override string ToString() => Name;
}
