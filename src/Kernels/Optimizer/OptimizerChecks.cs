using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Optimizer;

internal static class OptimizerChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new SgdCase("sgd/momentum-decay", 70_001, 0.02f, 0.9f, 1e-4f),
        new SgdCase("sgd/plain", 33, 0.5f, 0f, 0f),
        new SgdCase("sgd/empty", 0, 0.1f, 0.9f, 1e-4f),
        new NormCase("squared_norm/multi-block", 300_007),
        new NormCase("squared_norm/short", 5),
    ];

    /// <summary>Two steps from a zero momentum buffer: the second reads the momentum the first wrote.</summary>
    private sealed class SgdCase(string name, int n, float lr, float mu, float weightDecay) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var param = RandomTensors.Uniform(device, 1, -1, 1, n);
            using var grad = RandomTensors.Uniform(device, 2, -3, 3, n);
            var momentum = Tensor.Zeros(new Shape(n), DType.Float32, device);
            Sgd.Step(param, grad, momentum, lr, mu, weightDecay);
            Sgd.Step(param, grad, momentum, lr, mu, weightDecay);
            return [RandomTensors.ToCpu(param), RandomTensors.ToCpu(momentum)];
        }
    }

    private sealed class NormCase(string name, int n) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 3, -2, 2, n);
            return [Tensor.FromArray([(float)GradientNorm.SumOfSquares(x)], 1)];
        }
    }
}
