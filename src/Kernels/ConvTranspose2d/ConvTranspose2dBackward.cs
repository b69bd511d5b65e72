using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// Gradients of <see cref="ConvTranspose2d.Forward"/>, which is the adjoint of conv2d with the same
/// weight: dx is conv2d of the upstream gradient, and dW is conv2d's weight gradient with the roles of
/// input and output swapped, so both run on <see cref="Conv2d"/>'s code (cuDNN included). A fused
/// ReLU is rejected: the caller masks the upstream gradient with the ReLU first.
/// </summary>
public static partial class ConvTranspose2d
{
    /// <summary>Gradient of the loss with respect to the input [N, Cin, H, W] of shape <paramref name="inputShape"/>.</summary>
    public static Tensor BackwardInput(Tensor gradOutput, Tensor weight, ConvTranspose2dParams p, Shape inputShape) =>
        BackwardInput(gradOutput, weight, p, inputShape, gradOutput.Device.IsCpu ? Conv2d.CpuColumnBudgetBytes : Conv2d.CudaColumnBudgetBytes);

    /// <summary>Gradient of the loss with respect to the weight [Cin, Cout / groups, R, S] of shape <paramref name="weightShape"/>.</summary>
    public static Tensor BackwardWeight(Tensor x, Tensor gradOutput, ConvTranspose2dParams p, Shape weightShape) =>
        BackwardWeight(x, gradOutput, p, weightShape, x.Device.IsCpu ? Conv2d.CpuColumnBudgetBytes : Conv2d.CudaColumnBudgetBytes);

    /// <summary>Gradient of the loss with respect to the bias: gradOutput [N, Cout, OutH, OutW] summed over N, OutH and OutW.</summary>
    public static Tensor BackwardBias(Tensor gradOutput)
    {
        Check.Rank(gradOutput, 4, Op, "gradOutput");
        Check.DType(gradOutput, DType.Float32, Op, "gradOutput");
        return BiasGradient.ChannelSums(gradOutput, gradOutput.Shape[1], (long)gradOutput.Shape[2] * gradOutput.Shape[3]);
    }

    /// <summary><paramref name="implicitGemm"/> false forces conv2d's im2col + OpenBLAS path, so tests cover both CPU paths.</summary>
    internal static Tensor BackwardInput(Tensor gradOutput, Tensor weight, ConvTranspose2dParams p, Shape inputShape,
        long columnBudgetBytes, bool implicitGemm = true)
    {
        Check.Rank(weight, 4, Op, "weight");
        Check.DType(weight, DType.Float32, Op, "weight");
        CheckBackward(gradOutput, weight, inputShape, weight.Shape, p);
        return Conv2d.Forward(gradOutput, weight, null, AsConv2d(p), columnBudgetBytes, implicitGemm ? CpuConvAlgorithm.Auto : CpuConvAlgorithm.Columns);
    }

    internal static Tensor BackwardWeight(Tensor x, Tensor gradOutput, ConvTranspose2dParams p, Shape weightShape, long columnBudgetBytes)
    {
        Check.Rank(x, 4, Op, "input");
        Check.DType(x, DType.Float32, Op, "input");
        CheckBackward(gradOutput, x, x.Shape, weightShape, p);
        return Conv2d.BackwardWeight(gradOutput, x, AsConv2d(p), weightShape, columnBudgetBytes);
    }

    /// <summary>The conv2d whose adjoint this is: its input is our output, its output our input, the weight the same.</summary>
    private static Conv2dParams AsConv2d(ConvTranspose2dParams p) =>
        new() { Stride = p.Stride, Padding = p.Padding, Dilation = p.Dilation, Groups = p.Groups };

    private static void CheckBackward(Tensor gradOutput, Tensor other, Shape input, Shape weight, ConvTranspose2dParams p)
    {
        Check.Rank(gradOutput, 4, Op, "gradOutput");
        Check.DType(gradOutput, DType.Float32, Op, "gradOutput");
        Check.SameDevice(Op, gradOutput, other);
        Check.That(!p.FuseRelu, Op,
            "backward takes no fused ReLU: mask gradOutput with the forward output's ReLU first, then pass the parameters with FuseRelu = false");
        Conv2d.CheckHyperParameters(Op, p.Groups, p.Stride, p.Padding, p.Dilation);
        Check.That(input.Rank == 4, Op, $"input shape must have 4 dimensions, got {input}");
        Check.That(weight.Rank == 4, Op, $"weight shape must have 4 dimensions, got {weight}");
        var g = Validate(input, weight, p);
        // Output padding at or above the stride (allowed below the dilation) adds rows no conv2d of the
        // upstream gradient maps back onto the input.
        Check.That(p.OutputPadding.H < p.Stride.H && p.OutputPadding.W < p.Stride.W, Op,
            $"backward supports output padding {p.OutputPadding} only below stride {p.Stride}");
        var expected = new Shape(g.N, g.Cout, g.OutH, g.OutW);
        Check.That(gradOutput.Shape == expected, Op, $"gradOutput {gradOutput.Shape} must be {expected}, the output of input {input} and weight {weight}");
    }
}
