using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Conversion;

internal static class ConversionChecks
{
    // Values that stress rounding: halfway cases between halves (ties to even), the largest finite
    // half, overflow, subnormals, the underflow boundary, signed zero, infinities and NaN.
    private static readonly float[] Edges =
    [
        1f + 1f / 2048, 1f + 3f / 2048, 65504f, 65519.99f, 65520f, 1e6f, -1e6f, 6.1e-5f, 5.96e-8f, 2.98e-8f,
        2.99e-8f, 1e-9f, -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -3.14159f,
    ];

    public static IEnumerable<KernelCheck> All =>
    [
        new Case("cast/f32-to-f16-edges", () => Tensor.FromArray(Edges, Edges.Length), DType.Float16),
        new Case("cast/f32-to-f16-random", () => Random(-70000, 70000, [3, 1001]), DType.Float16),
        new Case("cast/f16-to-f32-all-bit-patterns", AllHalves, DType.Float32),
        new Case("cast/u8-to-f32-image", () => Bytes([3, 17, 29]), DType.Float32),
        new Case("cast/f32-to-f16-empty", () => Random(0, 1, [0, 3]), DType.Float16),
    ];

    private static Tensor Random(float low, float high, int[] shape) => RandomTensors.Uniform(Device.Cpu, 91, low, high, shape);

    private static Tensor AllHalves()
    {
        var data = new Half[65536];
        for (int i = 0; i < data.Length; i++) data[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        return Tensor.FromArray(data, data.Length);
    }

    private static Tensor Bytes(int[] shape)
    {
        var data = new byte[new Shape(shape).Numel];
        new Random(92).NextBytes(data);
        return Tensor.FromArray(data, shape);
    }

    private sealed class Case(string name, Func<Tensor> input, DType target) : KernelCheck
    {
        public override string Name => name;

        // Conversions are exact functions: any difference is a bug.
        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.OnDevice(input(), device);
            return [RandomTensors.ToCpu(Cast.To(x, target))];
        }
    }
}
