using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Transpose;

internal static class TransposeChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("transpose/rpn-logits", [2, 3, 35], 0, DType.Float32),
        new Case("transpose/boxes-as-elements", [17, 5, 4], 1, DType.Float32),
        new Case("transpose/int64-classes", [1, 9, 13], 0, DType.Int64),
        new Case("transpose/empty", [2, 0, 3], 0, DType.Float32),
    ];

    private sealed class Case(string name, int[] shape, int elementDims, DType dtype) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.OnDevice(dtype == DType.Int64
                ? Tensor.FromArray(Enumerable.Range(0, (int)new Shape(shape).Numel).Select(i => (long)i * 7919 % 1009 - 500).ToArray(), shape)
                : RandomTensors.Uniform(Device.Cpu, 7, -5, 5, shape), device);
            return [RandomTensors.ToCpu(Transpose.LastTwo(x, elementDims))];
        }
    }
}
