using System.Globalization;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;

namespace NativeSeg.Tests.Kernels.Convolution;

internal static class ConvAssert
{
    /// <summary>Same shape, and max|a−b| / max(1, max|expected|) within <paramref name="tolerance"/>.</summary>
    public static void Close(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        var result = KernelCheckRunner.Compare("conv", [expected], [actual], tolerance);
        Assert.True(result.Failure is null, result.Failure);
        Assert.True(result.Passed, $"relative error {result.RelativeError:g3} above {tolerance:g3}");
    }

    /// <summary>A fixture's "h,w" metadata value.</summary>
    public static Pair2 ParsePair(string text)
    {
        var parts = text.Split(',');
        return new(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
