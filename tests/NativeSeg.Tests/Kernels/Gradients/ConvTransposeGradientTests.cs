using NativeSeg.Kernels.Convolution;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>ConvTranspose2d's CPU gradients against torch autograd; dx on both of conv2d's CPU paths.</summary>
public class ConvTransposeGradientTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("convt_mask_head", true)]
    [InlineData("convt_mask_head", false)]
    [InlineData("convt_groups_output_padding", true)]
    [InlineData("convt_groups_output_padding", false)]
    [InlineData("convt_dilated", true)]
    [InlineData("convt_dilated", false)]
    public void MatchesTorch(string name, bool implicitGemm)
    {
        using var f = new ConvGradientFixture(name);
        var p = new ConvTranspose2dParams
        {
            Stride = f.Pair("stride"), Padding = f.Pair("padding"), OutputPadding = f.Pair("output_padding"),
            Dilation = f.Pair("dilation"), Groups = f.Int("groups"),
        };
        using var x = f.Load("x");
        using var w = f.Load("weight");
        using var dy = f.Load("dy");
        using var dx = f.Load("dx");
        using var dw = f.Load("dweight");
        using var db = f.Load("dbias");
        f.AssertClose("dx", dx, ConvTranspose2d.BackwardInput(dy, w, p, x.Shape, Conv2d.CpuColumnBudgetBytes, implicitGemm), output);
        f.AssertClose("dweight", dw, ConvTranspose2d.BackwardWeight(x, dy, p, w.Shape), output);
        f.AssertClose("dbias", db, ConvTranspose2d.BackwardBias(dy), output);
    }
}
