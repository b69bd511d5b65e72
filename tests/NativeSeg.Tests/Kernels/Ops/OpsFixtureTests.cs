using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Normalization;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Kernels.Selection;
using NativeSeg.Tests.Formats;
using SoftmaxOp = NativeSeg.Kernels.Softmax.Softmax;

namespace NativeSeg.Tests.Kernels.Ops;

/// <summary>The CPU ops against torch 1.13 outputs written by tests/reference/make_ops_fixtures.py.</summary>
public class OpsFixtureTests
{
    public static TheoryData<string> ResizeCases =>
    [
        "nearest_scale2", "nearest_size_up", "nearest_size_down", "nearest_scale_mixed", "nearest_scale_2_05", "nearest_scale_1_4",
        .. new[] { "half", "align" }.SelectMany(t => new[] { "size_up", "size_down", "scale_up", "scale_down", "to_one", "scale_1_4" }
            .Select(c => $"bilinear_{t}_{c}")),
    ];

    private static Tensor ResizeAs(string name, Tensor x, Shape expected)
    {
        bool align = name.StartsWith("bilinear_align", StringComparison.Ordinal);
        int oh = expected[2], ow = expected[3];
        return name switch
        {
            "nearest_scale2" => Resize.NearestScaled(x, 2.0, 2.0),
            "nearest_size_up" or "nearest_size_down" => Resize.Nearest(x, oh, ow),
            "nearest_scale_mixed" => Resize.NearestScaled(x, 1.7, 0.6),
            "nearest_scale_2_05" => Resize.NearestScaled(x, 2.05, 2.05),
            "nearest_scale_1_4" => Resize.NearestScaled(x, 1.4, 1.4),
            _ when name.EndsWith("_scale_up", StringComparison.Ordinal) => Resize.BilinearScaled(x, 4.0, 4.0, align),
            _ when name.EndsWith("_scale_down", StringComparison.Ordinal) => Resize.BilinearScaled(x, 0.5, 0.3, align),
            _ when name.EndsWith("_scale_1_4", StringComparison.Ordinal) => Resize.BilinearScaled(x, 1.4, 1.4, align),
            _ => Resize.Bilinear(x, oh, ow, align),
        };
    }

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void ResizeMatchesTorch(string name)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("ops_resize.safetensors"));
        using var x = file.Load(name + ".x");
        using var expected = file.Load(name + ".y");
        using var y = ResizeAs(name, x, expected.Shape);
        // Nearest copies input values, so it must be exact; bilinear may differ in the last bits.
        AssertClose(expected, y, name.StartsWith("nearest", StringComparison.Ordinal) ? 0 : 1e-6);
    }

    [Theory]
    [InlineData("affine", 3, false)]
    [InlineData("relu", 4, true)]
    [InlineData("no_affine_large_mean", 2, false)]
    [InlineData("fcos_like", 8, true)]
    public void GroupNormMatchesTorch(string name, int groups, bool relu)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("ops_group_norm.safetensors"));
        using var x = file.Load(name + ".x");
        using var gamma = file.Contains(name + ".gamma") ? file.Load(name + ".gamma") : null;
        using var beta = file.Contains(name + ".beta") ? file.Load(name + ".beta") : null;
        using var expected = file.Load(name + ".y");
        using var y = GroupNorm.Forward(x, groups, gamma, beta, 1e-5f, relu);
        AssertClose(expected, y, 1e-5);
    }

    [Theory]
    [InlineData("classes")]
    [InlineData("long_rows")]
    [InlineData("large_logits")]
    public void SoftmaxMatchesTorch(string name)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("ops_softmax.safetensors"));
        using var x = file.Load(name + ".x");
        using var expected = file.Load(name + ".y");
        using var y = SoftmaxOp.LastDim(x);
        AssertClose(expected, y, 1e-6);
    }

    [Theory]
    [InlineData("random", 300)]
    [InlineData("ties", 100)]
    [InlineData("specials", 20)]
    public void TopKMatchesTorchWithTiesByIndex(string name, int k)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("ops_topk.safetensors"));
        using var x = file.Load(name + ".x");
        using var expectedValues = file.Load(name + ".values");
        using var expectedIndices = file.Load(name + ".indices");
        var (values, indices) = TopK.LastDim(x, k);
        using (values)
        using (indices)
        {
            Assert.Equal(expectedIndices.AsSpan<long>().ToArray(), indices.AsSpan<long>().ToArray());
            AssertClose(expectedValues, values, 0);
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        var result = KernelCheckRunner.Compare("fixture", [expected], [actual], tolerance);
        Assert.True(result.Passed, $"{result.Failure ?? "relative error"} {result.RelativeError} (tolerance {tolerance})");
    }
}
