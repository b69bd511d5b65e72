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
    ];

    private sealed class Case(string name, Func<Tensor, Tensor> op, params int[] shape) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -8, 8, shape);
            return [RandomTensors.ToCpu(op(x))];
        }
    }
}
