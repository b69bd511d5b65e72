using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels;

/// <summary>Outcome of running one check on the CPU (reference) and on a CUDA device (candidate).</summary>
public sealed record KernelCheckResult(string Name, double RelativeError, double Tolerance, string? Failure)
{
    public bool Passed => Failure is null && RelativeError <= Tolerance;
}

public static class KernelCheckRunner
{
    public static KernelCheckResult Run(KernelCheck check, Device candidate)
    {
        var reference = check.Run(Device.Cpu);
        var result = check.Run(candidate);
        try
        {
            return Compare(check.Name, reference, result, check.Tolerance);
        }
        finally
        {
            foreach (var t in reference) t.Dispose();
            foreach (var t in result) t.Dispose();
        }
    }

    /// <summary>
    /// Largest over outputs of max|a−b| / max(1, max|a|): relative to the output's scale, so a tiny
    /// absolute error on large values passes and values near zero are not blown up.
    /// </summary>
    public static KernelCheckResult Compare(string name, IReadOnlyList<Tensor> reference, IReadOnlyList<Tensor> candidate, double tolerance)
    {
        if (reference.Count != candidate.Count)
            return new(name, double.NaN, tolerance, $"{reference.Count} reference outputs, {candidate.Count} candidate outputs");
        double worst = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            var (a, b) = (reference[i], candidate[i]);
            if (a.Shape != b.Shape || a.DType != b.DType)
                return new(name, double.NaN, tolerance, $"output {i}: reference {a.Shape} {a.DType.Name()}, candidate {b.Shape} {b.DType.Name()}");
            double[] x = AsDoubles(a), y = AsDoubles(b);
            double scale = 1, diff = 0;
            for (int j = 0; j < x.Length; j++)
            {
                if (double.IsNaN(x[j]) != double.IsNaN(y[j]))
                    return new(name, double.NaN, tolerance, $"output {i}: NaN mismatch at element {j} ({x[j]} vs {y[j]})");
                if (double.IsNaN(x[j])) continue;
                scale = Math.Max(scale, Math.Abs(x[j]));
                diff = Math.Max(diff, x[j] == y[j] ? 0 : Math.Abs(x[j] - y[j]));
            }
            worst = Math.Max(worst, diff / scale);
        }
        return new(name, worst, tolerance, null);
    }

    private static double[] AsDoubles(Tensor t) => t.DType switch
    {
        DType.Float32 => Array.ConvertAll(t.AsSpan<float>().ToArray(), v => (double)v),
        DType.Float16 => Array.ConvertAll(t.AsSpan<Half>().ToArray(), v => (double)v),
        DType.Int32 => Array.ConvertAll(t.AsSpan<int>().ToArray(), v => (double)v),
        DType.Int64 => Array.ConvertAll(t.AsSpan<long>().ToArray(), v => (double)v),
        DType.UInt8 => Array.ConvertAll(t.AsSpan<byte>().ToArray(), v => (double)v),
        _ => throw new NotSupportedException(t.DType.Name()),
    };
}
