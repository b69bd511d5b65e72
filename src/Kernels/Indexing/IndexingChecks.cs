using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

internal static class IndexingChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new ConcatCase("concat/dim0-float", 0, [[2, 3, 4], [5, 3, 4], [1, 3, 4]], DType.Float32),
        new ConcatCase("concat/dim1-channels", 1, [[2, 3, 5, 5], [2, 0, 5, 5], [2, 7, 5, 5]], DType.Float32),
        new ConcatCase("concat/last-dim-odd-bytes", -1, [[3, 1], [3, 2]], DType.UInt8),
        new ConcatCase("concat/last-dim-int64", 1, [[4, 3], [4, 1]], DType.Int64),
        new ConcatCase("concat/all-empty", 0, [[0, 2], [0, 2]], DType.Float32),
        new NarrowCase("narrow/dim1-channels", 1, 3, 4, [2, 9, 5, 5], DType.Float32),
        new NarrowCase("narrow/dim0-rows", 0, 1, 2, [4, 3], DType.Float32),
        new NarrowCase("narrow/last-dim-odd-bytes", -1, 1, 2, [3, 5], DType.UInt8),
        new NarrowCase("narrow/empty", 1, 2, 0, [2, 4, 3], DType.Float32),
        new GatherCase("gather/float-rows-repeats", [7, 3, 2], DType.Float32, [6, 0, 0, 3, 6, 1]),
        new GatherCase("gather/uint8-odd-rows", [5, 3], DType.UInt8, [4, 2]),
        new GatherCase("gather/int64-boxes", [9, 4], DType.Int64, [8, 7, 0]),
        new GatherCase("gather/no-indices", [4, 4], DType.Float32, []),
        new GatherBackwardCase("gather_backward/repeats-sum", 7, [3, 2], [6, 0, 0, 3, 6, 6, 1]),
        new GatherBackwardCase("gather_backward/wide-rows", 300, [257], [299, 0, 150, 7]),
        new GatherBackwardCase("gather_backward/no-indices", 4, [4], []),
    ];

    private static Tensor Input(Device device, int seed, DType dtype, int[] shape)
    {
        using var u = RandomTensors.Uniform(Device.Cpu, seed, 0, 250, shape);
        var data = u.AsSpan<float>();
        Tensor t = dtype switch
        {
            DType.Float32 => Tensor.FromArray(data.ToArray(), shape),
            DType.UInt8 => Tensor.FromArray(Array.ConvertAll(data.ToArray(), v => (byte)v), shape),
            DType.Int64 => Tensor.FromArray(Array.ConvertAll(data.ToArray(), v => (long)v - 100), shape),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no indexing check input for this dtype"),
        };
        return RandomTensors.OnDevice(t, device);
    }

    private sealed class ConcatCase(string name, int dim, int[][] shapes, DType dtype) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var inputs = shapes.Select((s, i) => Input(device, 70 + i, dtype, s)).ToArray();
            try
            {
                return [RandomTensors.ToCpu(Concat.Forward(inputs, dim))];
            }
            finally
            {
                foreach (var t in inputs) t.Dispose();
            }
        }
    }

    private sealed class NarrowCase(string name, int dim, int start, int length, int[] shape, DType dtype) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = Input(device, 75, dtype, shape);
            return [RandomTensors.ToCpu(Narrow.Forward(x, dim, start, length))];
        }
    }

    private sealed class GatherCase(string name, int[] shape, DType dtype, long[] index) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = Input(device, 80, dtype, shape);
            // Device-resident indices exercise the kernel path that does not validate on the host.
            using var idx = RandomTensors.OnDevice(Tensor.FromArray(index, index.Length), device);
            return [RandomTensors.ToCpu(Gather.Rows(x, idx))];
        }
    }

    private sealed class GatherBackwardCase(string name, int inputRows, int[] row, long[] index) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var gy = RandomTensors.Uniform(device, 81, -2, 2, [index.Length, .. row]);
            using var idx = Tensor.FromArray(index, index.Length);
            return [RandomTensors.ToCpu(GatherBackward.Rows(gy, idx, inputRows))];
        }
    }
}
