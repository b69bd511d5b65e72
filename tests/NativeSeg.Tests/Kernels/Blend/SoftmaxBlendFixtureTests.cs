using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Blend;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;

namespace NativeSeg.Tests.Kernels.Blend;

/// <summary>The CPU blend against torch 1.13's softmax, weighted sum and sigmoid (tests/reference/make_blend_fixtures.py).</summary>
public class SoftmaxBlendFixtureTests
{
    [Theory]
    [InlineData("blender")]
    [InlineData("large_logits")]
    public void MatchesTorch(string name)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("softmax_blend.safetensors"));
        using var logits = file.Load(name + ".logits");
        using var values = file.Load(name + ".values");
        using var expected = file.Load(name + ".masks");
        using var masks = SoftmaxBlend.Forward(logits, values);
        ConvAssert.Close(expected, masks, 1e-6);
    }

    [Fact]
    public void MismatchedShapesAreRejected()
    {
        using var logits = Tensor.Zeros(new Shape(2, 4, 3, 3), DType.Float32, Device.Cpu);
        using var values = Tensor.Zeros(new Shape(2, 3, 3, 3), DType.Float32, Device.Cpu);
        Assert.Contains("must have the shape of logits", Assert.ThrowsAny<ArgumentException>(() => SoftmaxBlend.Forward(logits, values)).Message);
    }
}
