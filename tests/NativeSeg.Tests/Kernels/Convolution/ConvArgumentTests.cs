using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Dense;

namespace NativeSeg.Tests.Kernels.Convolution;

public class ConvArgumentTests
{
    [Fact]
    public void Conv2dChannelMismatchNamesOpAndBothShapes()
    {
        using var x = Tensor.Zeros(new Shape(1, 3, 8, 8), DType.Float32, Device.Cpu);
        using var w = Tensor.Zeros(new Shape(4, 2, 3, 3), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w));
        Assert.StartsWith("conv2d:", e.Message);
        Assert.Contains("[1, 3, 8, 8]", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);
    }

    [Fact]
    public void Conv2dRejectsGroupsThatDoNotDivideTheChannels()
    {
        using var x = Tensor.Zeros(new Shape(1, 6, 8, 8), DType.Float32, Device.Cpu);
        using var w = Tensor.Zeros(new Shape(5, 2, 3, 3), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, new Conv2dParams { Groups = 3 }));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains("3 groups", e.Message);
    }

    [Fact]
    public void Conv2dRejectsKernelLargerThanPaddedInputAndBadBias()
    {
        using var x = Tensor.Zeros(new Shape(1, 2, 2, 2), DType.Float32, Device.Cpu);
        using var w = Tensor.Zeros(new Shape(3, 2, 3, 3), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w));
        Assert.Contains("does not fit", e.Message);
        using var bias = Tensor.Zeros(new Shape(4), DType.Float32, Device.Cpu);
        e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, bias, new Conv2dParams { Padding = 1 }));
        Assert.Contains("bias [4] must be [3]", e.Message);
        using var x3 = Tensor.Zeros(new Shape(2, 2, 2), DType.Float32, Device.Cpu);
        e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x3, w));
        Assert.Contains("input must have 4 dimensions, got [2, 2, 2]", e.Message);
    }

    [Fact]
    public void ConvTransposeAndLinearNameTheirShapes()
    {
        using var x = Tensor.Zeros(new Shape(1, 3, 4, 4), DType.Float32, Device.Cpu);
        using var w = Tensor.Zeros(new Shape(4, 2, 2, 2), DType.Float32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => ConvTranspose2d.Forward(x, w, null, ConvTranspose2dParams.Default));
        Assert.StartsWith("conv_transpose2d:", e.Message);
        Assert.Contains("[1, 3, 4, 4]", e.Message);
        Assert.Contains("[4, 2, 2, 2]", e.Message);
        using var w3 = Tensor.Zeros(new Shape(3, 2, 2, 2), DType.Float32, Device.Cpu);
        e = Assert.Throws<ArgumentException>(() => ConvTranspose2d.Forward(x, w3, null, new ConvTranspose2dParams { Stride = 2, OutputPadding = 2 }));
        Assert.Contains("output padding 2", e.Message);

        using var v = Tensor.Zeros(new Shape(5, 7), DType.Float32, Device.Cpu);
        using var m = Tensor.Zeros(new Shape(3, 6), DType.Float32, Device.Cpu);
        e = Assert.Throws<ArgumentException>(() => Linear.Forward(v, m));
        Assert.StartsWith("linear:", e.Message);
        Assert.Contains("[5, 7]", e.Message);
        Assert.Contains("[3, 6]", e.Message);
    }

    [Fact]
    public void EveryConvolutionCheckIsRegistered()
    {
        var names = KernelChecks.All.Select(c => c.Name).ToHashSet();
        Assert.Contains("conv2d/row-blocks", names);
        Assert.Contains("conv_transpose2d/groups-output-padding", names);
        Assert.Contains("linear/box-head-relu", names);
    }
}
