using NativeSeg.Kernels.Dense;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>Linear's CPU gradients against torch autograd.</summary>
public class LinearGradientTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("linear_2d")]
    [InlineData("linear_3d")]
    [InlineData("linear_empty")]
    public void MatchesTorch(string name)
    {
        using var f = new ConvGradientFixture(name);
        using var x = f.Load("x");
        using var w = f.Load("weight");
        using var dy = f.Load("dy");
        using var dx = f.Load("dx");
        using var dw = f.Load("dweight");
        using var db = f.Load("dbias");
        f.AssertClose("dx", dx, Linear.BackwardInput(dy, w), output);
        f.AssertClose("dweight", dw, Linear.BackwardWeight(x, dy), output);
        f.AssertClose("dbias", db, Linear.BackwardBias(dy), output);
    }
}
