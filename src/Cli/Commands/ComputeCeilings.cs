using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// What `bench model` reads its stages' GFLOP/s against, measured in the same process just after the timed runs:
/// SGEMM on square matrices (OpenBLAS on the CPU, cuBLAS on a device) and, on a CPU with AVX-512, the peak of the
/// micro-kernel the convolutions run on. The latter is the fairer ceiling on the CPU, where the deployed OpenBLAS runs
/// its AVX2 kernels.
/// </summary>
internal sealed record ComputeCeilings(KernelBenchmarkResult Sgemm, KernelBenchmarkResult? PanelKernel)
{
    /// <summary>The <c>--ceilings</c> values: a preset's SGEMM size (small 512, paper 4096, large 8192), or none.</summary>
    public static readonly string[] Choices = ["small", "paper", "large", "none"];

    private static readonly KernelBenchmarkOptions Options = new() { Warmup = 1, Repeats = 3 };

    /// <summary>Null for "none".</summary>
    public static ComputeCeilings? Measure(Device device, string choice)
    {
        if (choice == "none") return null;
        var preset = Enum.Parse<BenchmarkPreset>(choice, ignoreCase: true);
        var sgemm = KernelBenchmarkRunner.Measure(DeviceCeilings.Gemm.Sizes(preset)[0], device, Options);
        return new ComputeCeilings(sgemm, DeviceCeilings.HasPanel(device) ? KernelBenchmarkRunner.Measure(DeviceCeilings.Panel.Sizes(preset)[0], device, Options) : null);
    }
}
