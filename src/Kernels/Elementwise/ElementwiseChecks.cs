using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Elementwise;

internal static class ElementwiseChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        .. Enum.GetValues<BinaryOp>().Select(op => new BinaryCase(op, [3, 5, 7])),
        new BinaryCase(BinaryOp.Add, [0, 4]),
        new BroadcastCase("sub_broadcast/nchw-channels", BinaryOp.Sub, [2, 3, 5, 7], 1),
        new BroadcastCase("div_broadcast/chw-image", BinaryOp.Div, [3, 9, 11], 0),
        new BroadcastCase("mul_broadcast/last-axis", BinaryOp.Mul, [4, 6], 1),
        new BroadcastCase("add_broadcast/chunk-crossing", BinaryOp.Add, [1, 5, 200, 131], 1),
        new AffineCase([2, 3, 17]),
        new AddReluCase([2, 8, 9, 13]),
    ];

    private sealed class BinaryCase(BinaryOp op, int[] shape) : KernelCheck
    {
        public override string Name => $"{op.ToString().ToLowerInvariant()}/shape-{string.Join('x', shape)}";

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var a = RandomTensors.Uniform(device, 51, -3, 3, shape);
            // Divisors kept away from zero so the check compares arithmetic, not overflow.
            using var b = RandomTensors.Uniform(device, 52, 0.5f, 2, shape);
            return [RandomTensors.ToCpu(Arithmetic.Binary(a, b, op))];
        }
    }

    private sealed class BroadcastCase(string name, BinaryOp op, int[] shape, int axis) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 53, 0, 255, shape);
            using var v = RandomTensors.Uniform(device, 54, 1, 100, shape[axis]);
            return [RandomTensors.ToCpu(Arithmetic.BroadcastAxis(x, v, op, axis))];
        }
    }

    private sealed class AffineCase(int[] shape) : KernelCheck
    {
        public override string Name => "affine/odd-size";

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Normal(device, 55, 2, shape);
            return [RandomTensors.ToCpu(Arithmetic.Affine(x, -1.5f, 0.25f))];
        }
    }

    private sealed class AddReluCase(int[] shape) : KernelCheck
    {
        public override string Name => $"add_relu/shape-{string.Join('x', shape)}";

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var a = RandomTensors.Normal(device, 56, 1, shape);
            using var b = RandomTensors.Normal(device, 57, 1, shape);
            return [RandomTensors.ToCpu(Arithmetic.AddRelu(a, b))];
        }
    }
}
