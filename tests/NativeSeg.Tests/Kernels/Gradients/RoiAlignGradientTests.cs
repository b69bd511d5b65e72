using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>RoIAlign's CPU backward against torchvision 0.14 autograd (tests/reference/make_grad_roiloss_fixtures.py).</summary>
public class RoiAlignGradientTests(ITestOutputHelper output)
{
    private static readonly float[] Scales = [1f / 4, 1f / 8, 1f / 16, 1f / 32];

    [Theory]
    [InlineData("roi_aligned_s0", true, 0, 7, 7)]
    [InlineData("roi_legacy_s0", false, 0, 7, 7)]
    [InlineData("roi_aligned_s2", true, 2, 5, 4)]
    [InlineData("roi_legacy_s2", false, 2, 3, 5)]
    public void BackwardMatchesTorchvision(string name, bool aligned, int sampling, int outH, int outW)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("grad_roiloss.safetensors"));
        using var rois = file.Load("roi.rois");
        using var levels = file.Load("roi.levels");
        using var gradOut = file.Load(name + ".grad_out");
        var expected = Enumerable.Range(0, Scales.Length).Select(l => file.Load($"{name}.grad.{l}")).ToArray();
        var actual = RoiAlignOp.Backward(gradOut, [.. expected.Select(e => e.Shape)], Scales, rois, levels, new RoiAlignOptions(outH, outW, sampling, aligned));
        try
        {
            for (int l = 0; l < Scales.Length; l++)
            {
                Assert.Equal(expected[l].Shape, actual[l].Shape);
                output.WriteLine($"{name} level {l}: relative error {GradientAssert.Close(expected[l], actual[l], $"{name}.grad.{l}"):G3}");
            }
        }
        finally
        {
            foreach (var t in expected.Concat(actual)) t.Dispose();
        }
    }

    [Fact]
    public void BackwardIsTheAdjointOfForward()
    {
        // <Forward(f), g> = <f, Backward(g)> for any f and g, RoI by RoI.
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("grad_roiloss.safetensors"));
        using var rois = file.Load("roi.rois");
        using var levels = file.Load("roi.levels");
        using var gradOut = file.Load("roi_aligned_s0.grad_out");
        // The fixture's maps: batch 2, 2 channels, a 61×83 image at strides 4 to 32.
        var shapes = Scales.Select(s => new Shape(2, 2, (int)MathF.Ceiling(61 * s), (int)MathF.Ceiling(83 * s))).ToArray();
        var rng = new Random(1);
        var features = shapes.Select(s => Tensor.FromArray(Enumerable.Range(0, (int)s.Numel).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), s.ToArray())).ToArray();
        var options = new RoiAlignOptions(7, 7, 0, true);
        using var pooled = RoiAlignOp.Forward(features, Scales, rois, levels, options);
        var grads = RoiAlignOp.Backward(gradOut, shapes, Scales, rois, levels, options);
        try
        {
            double left = Dot(pooled, gradOut), right = features.Zip(grads).Sum(p => Dot(p.First, p.Second));
            Assert.True(Math.Abs(left - right) <= 1e-4 * Math.Max(1, Math.Abs(left)), $"<Forward(f), g> = {left}, <f, Backward(g)> = {right}");
        }
        finally
        {
            foreach (var t in features.Concat(grads)) t.Dispose();
        }
    }

    [Fact]
    public void RejectsAGradientOfTheWrongShape()
    {
        using var rois = Tensor.FromArray(new float[] { 0, 1, 1, 9, 9 }, 1, 5);
        using var levels = Tensor.FromArray(new[] { 0 }, 1);
        using var gradOut = Tensor.Zeros(new Shape(1, 3, 7, 6), DType.Float32, rois.Device);
        var e = Assert.Throws<ArgumentException>(() => RoiAlignOp.Backward(gradOut, [new Shape(1, 3, 16, 16)], [0.25f], rois, levels, new RoiAlignOptions(7, 7, 0, true)));
        Assert.Contains("gradOutput [1, 3, 7, 6] must be [R, C, outH, outW] = [1, 3, 7, 7]", e.Message);
    }

    private static double Dot(Tensor a, Tensor b)
    {
        float[] x = a.ToArray<float>(), y = b.ToArray<float>();
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += (double)x[i] * y[i];
        return s;
    }
}
