using System.Globalization;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Dense;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Kernels.Convolution;

/// <summary>The CPU ops against torch 1.13 (tests/reference/make_conv_fixtures.py).</summary>
public class ConvFixtureTests
{
    [Theory]
    [InlineData("grouped")]
    [InlineData("dilated")]
    [InlineData("strided_asymmetric")]
    [InlineData("bias_relu")]
    public void Conv2dMatchesTorch(string name)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture($"conv/{name}.safetensors"));
        var meta = file.Metadata;
        var p = new Conv2dParams
        {
            Stride = ConvAssert.ParsePair(meta["stride"]),
            Padding = ConvAssert.ParsePair(meta["padding"]),
            Dilation = ConvAssert.ParsePair(meta["dilation"]),
            Groups = int.Parse(meta["groups"], CultureInfo.InvariantCulture),
            FuseRelu = meta["relu"] == "1",
        };
        using var x = file.Load("x");
        using var w = file.Load("weight");
        using var b = file.Contains("bias") ? file.Load("bias") : null;
        using var expected = file.Load("y");
        using var y = Conv2d.Forward(x, w, b, p);
        ConvAssert.Close(expected, y);
    }

    [Fact]
    public void ConvTranspose2dMatchesTorch()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("conv/transposed.safetensors"));
        var meta = file.Metadata;
        var p = new ConvTranspose2dParams
        {
            Stride = ConvAssert.ParsePair(meta["stride"]),
            Padding = ConvAssert.ParsePair(meta["padding"]),
            OutputPadding = ConvAssert.ParsePair(meta["output_padding"]),
            Dilation = ConvAssert.ParsePair(meta["dilation"]),
            Groups = int.Parse(meta["groups"], CultureInfo.InvariantCulture),
        };
        using var x = file.Load("x");
        using var w = file.Load("weight");
        using var b = file.Load("bias");
        using var expected = file.Load("y");
        using var y = ConvTranspose2d.Forward(x, w, b, p);
        ConvAssert.Close(expected, y);
    }

    [Fact]
    public void LinearMatchesTorch()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("conv/linear.safetensors"));
        using var x = file.Load("x");
        using var w = file.Load("weight");
        using var b = file.Load("bias");
        using var expected = file.Load("y");
        using var y = Linear.Forward(x, w, b);
        ConvAssert.Close(expected, y);
    }
}
