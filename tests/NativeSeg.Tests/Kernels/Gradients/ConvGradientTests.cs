using NativeSeg.Kernels.Convolution;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>Conv2d's CPU gradients against torch autograd, blocked whole and by single output rows.</summary>
public class ConvGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool> Cases => new()
    {
        { "conv_3x3", false }, { "conv_3x3", true },
        { "conv_grouped", false }, { "conv_grouped", true },
        { "conv_stride_pad_dilation", false }, { "conv_stride_pad_dilation", true },
        { "conv_asymmetric", false }, { "conv_asymmetric", true },
        { "conv_1x1", false }, { "conv_1x1_stride2", false }, { "conv_1x1_stride2", true },
        { "conv_batch0", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorch(string name, bool rowBlocks)
    {
        using var f = new ConvGradientFixture(name);
        var p = new Conv2dParams { Stride = f.Pair("stride"), Padding = f.Pair("padding"), Dilation = f.Pair("dilation"), Groups = f.Int("groups") };
        using var x = f.Load("x");
        using var w = f.Load("weight");
        using var dy = f.Load("dy");
        using var dx = f.Load("dx");
        using var dw = f.Load("dweight");
        using var db = f.Load("dbias");
        // One column row per block: every block reaches input rows its neighbours reach too.
        long budget = rowBlocks ? (long)x.Shape[1] * w.Shape[2] * w.Shape[3] * dy.Shape[3] * sizeof(float) : Conv2d.CpuColumnBudgetBytes;
        f.AssertClose("dx", dx, Conv2d.BackwardInput(dy, w, p, x.Shape, budget), output);
        f.AssertClose("dweight", dw, Conv2d.BackwardWeight(x, dy, p, w.Shape, budget), output);
        f.AssertClose("dbias", db, Conv2d.BackwardBias(dy), output);
    }

    [Fact]
    public void RejectsFusedRelu()
    {
        using var f = new ConvGradientFixture("conv_3x3");
        using var x = f.Load("x");
        using var w = f.Load("weight");
        using var dy = f.Load("dy");
        var p = new Conv2dParams { Padding = 1, FuseRelu = true };
        Assert.Contains("FuseRelu", Assert.Throws<ArgumentException>(() => Conv2d.BackwardInput(dy, w, p, x.Shape)).Message);
        Assert.Contains("FuseRelu", Assert.Throws<ArgumentException>(() => Conv2d.BackwardWeight(x, dy, p, w.Shape)).Message);
    }

    [Fact]
    public void RejectsGradOutputOfAnotherShape()
    {
        using var f = new ConvGradientFixture("conv_3x3");
        using var x = f.Load("x");
        using var w = f.Load("weight");
        using var dy = f.Load("dy");
        var e = Assert.Throws<ArgumentException>(() => Conv2d.BackwardInput(dy, w, new Conv2dParams { Padding = 0 }, x.Shape));
        Assert.Contains("gradOutput", e.Message);
    }
}
