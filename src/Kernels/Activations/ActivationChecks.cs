using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Activations;

internal static class ActivationChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("relu/odd-size", Activation.Relu, 3, 5, 7),
        new Case("relu/empty", Activation.Relu, 0, 4),
        new Case("sigmoid/odd-size", Activation.Sigmoid, 2, 3, 33, 17),
        new Case("sqrt/odd-size", Activation.Sqrt, 5, 67) { Low = 0 },
        new ReluBackwardCase("relu_backward/odd-size", 3, 5, 7),
        new ReluBackwardCase("relu_backward/empty", 0, 4),
    ];

    private sealed class Case(string name, Func<Tensor, Tensor> op, params int[] shape) : KernelCheck
    {
        public override string Name => name;

        /// <summary>The inputs' lower bound: an op defined on [0, ∞) gets no negatives.</summary>
        public float Low { get; init; } = -8;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, Low, 8, shape);
            return [RandomTensors.ToCpu(op(x))];
        }
    }

    // The output is a ReLU's, so about half of it is exactly 0 and must block the gradient.
    private sealed class ReluBackwardCase(string name, params int[] shape) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 2, -8, 8, shape);
            using var output = Activation.Relu(x);
            using var gradOutput = RandomTensors.Normal(device, 3, 1, shape);
            return [RandomTensors.ToCpu(Activation.ReluBackward(gradOutput, output))];
        }
    }
}
