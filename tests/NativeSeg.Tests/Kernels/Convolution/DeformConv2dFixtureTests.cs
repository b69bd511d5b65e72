using System.Globalization;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Kernels.DeformConv2d;
using NativeSeg.Tests.Formats;
using DeformConv2dOp = NativeSeg.Kernels.DeformConv2d.DeformConv2d;

namespace NativeSeg.Tests.Kernels.Convolution;

/// <summary>The CPU deformable convolution against torchvision 0.14's ops.deform_conv2d (tests/reference/make_deform_conv_fixtures.py).</summary>
public class DeformConv2dFixtureTests
{
    [Theory]
    [InlineData("modulated_3x3", null)]
    [InlineData("v1_no_mask", null)]
    [InlineData("strided_dilated_grouped", null)]
    [InlineData("asymmetric_1x3", null)]
    // A budget of one output row's columns: every row is its own sampling + GEMM block.
    [InlineData("modulated_3x3", 4 * 9 * 11 * sizeof(float))]
    public void MatchesTorchvision(string name, int? budgetBytes)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("deform_conv2d.safetensors"));
        string Meta(string key) => file.Metadata[$"{name}.{key}"];
        var p = new DeformConv2dParams
        {
            Convolution = new()
            {
                Stride = ConvAssert.ParsePair(Meta("stride")),
                Padding = ConvAssert.ParsePair(Meta("padding")),
                Dilation = ConvAssert.ParsePair(Meta("dilation")),
                Groups = int.Parse(Meta("groups"), CultureInfo.InvariantCulture),
            },
            OffsetGroups = int.Parse(Meta("offset_groups"), CultureInfo.InvariantCulture),
        };
        using var x = file.Load(name + ".x");
        using var offset = file.Load(name + ".offset");
        using var mask = file.Contains(name + ".mask") ? file.Load(name + ".mask") : null;
        using var w = file.Load(name + ".weight");
        using var b = file.Load(name + ".bias");
        using var expected = file.Load(name + ".y");
        using var y = budgetBytes is int budget ? DeformConv2dOp.Forward(x, offset, mask, w, b, p, budget) : DeformConv2dOp.Forward(x, offset, mask, w, b, p);
        ConvAssert.Close(expected, y);
    }

    [Fact]
    public void MisshapenOffsetsAreRejectedWithTheExpectedShape()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("deform_conv2d.safetensors"));
        using var x = file.Load("modulated_3x3.x");
        using var w = file.Load("modulated_3x3.weight");
        using var mask = file.Load("modulated_3x3.mask");
        var error = Assert.ThrowsAny<ArgumentException>(() => DeformConv2dOp.Forward(x, mask, mask, w, null, new DeformConv2dParams { Convolution = new() { Padding = 1 } }).Dispose());
        Assert.Contains("offset", error.Message);
        Assert.Contains("[2, 18, 9, 11]", error.Message);
    }
}
