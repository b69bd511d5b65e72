using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Conversion;

/// <summary>dtype casts: a decoded uint8 image to float, and a P2 feature map to half precision and back.</summary>
internal sealed class CastBenchmark : KernelBenchmark<CastBenchmark.Size>
{
    public sealed record Size(DType From, DType To, int[] Shape);

    public override string Name => "cast";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset)
    {
        int[] image, features;
        switch (preset)
        {
            case BenchmarkPreset.Small: (image, features) = ([1, 3, 120, 160], [1, 16, 30, 40]); break;
            case BenchmarkPreset.Paper: (image, features) = ([1, 3, 800, 1333], [1, 256, 200, 336]); break;
            case BenchmarkPreset.Large: (image, features) = ([8, 3, 800, 1333], [2, 256, 400, 672]); break;
            default: throw new ArgumentOutOfRangeException(nameof(preset));
        }
        return [new(DType.UInt8, DType.Float32, image), new(DType.Float32, DType.Float16, features), new(DType.Float16, DType.Float32, features)];
    }

    protected override string Label(Size s) => $"{s.From.Name()}-{s.To.Name()} {string.Join("x", s.Shape)}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long n = new Shape(s.Shape).Numel;
        return (n, n * (s.From.SizeOf() + s.To.SizeOf()));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            if (s.From == DType.UInt8)
            {
                var pixels = new byte[new Shape(s.Shape).Numel];
                new Random(i + 1).NextBytes(pixels);
                xs[i] = RandomTensors.OnDevice(Tensor.FromArray(pixels, s.Shape), device);
                continue;
            }
            using var values = RandomTensors.Uniform(Device.Cpu, i + 1, -4, 4, s.Shape);
            xs[i] = RandomTensors.OnDevice(Cast.To(values, s.From), device);
        }
        return new BenchmarkCase(copies, i => Cast.To(xs[i], s.To).Dispose(), xs);
    }
}
