using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>Compares against torch autograd references by max|a − b| / max(1, max|reference|).</summary>
internal static class GradientAssert
{
    public const double Tolerance = 1e-4;

    public static double Close(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Numel, actual.Numel);
        float[] e = expected.ToArray<float>(), a = actual.ToArray<float>();
        double worst = 0, scale = 1;
        for (int i = 0; i < e.Length; i++) scale = Math.Max(scale, Math.Abs(e[i]));
        for (int i = 0; i < e.Length; i++)
        {
            Assert.False(float.IsNaN(a[i]) != float.IsNaN(e[i]), $"{what}[{i}]: torch {e[i]}, ours {a[i]}");
            if (!float.IsNaN(e[i])) worst = Math.Max(worst, Math.Abs(e[i] - a[i]) / scale);
        }
        Assert.True(worst <= Tolerance, $"{what}: relative error {worst:G3} exceeds {Tolerance:G3}");
        return worst;
    }
}
