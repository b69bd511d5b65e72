using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.NonLocalAttention;

/// <summary>
/// The attention core and the whole block at 0, 1, 7 and 100 RoIs. Channel and position counts shrink
/// as the RoI count grows so the emulated runs stay at seconds (every block barrier is a rendezvous of
/// 256 host threads there); the full BCNet size (C = 256, 14×14 at 100 RoIs) is the benchmark's and
/// the torch fixture test's.
/// </summary>
internal static class NonLocalAttentionChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Core("nonlocal_attention/0-rois", 0, 16, 16, 196),
        new Core("nonlocal_attention/1-roi-c128-14x14", 1, 128, 128, 196),
        new Core("nonlocal_attention/7-rois-c64-14x14", 7, 64, 64, 196),
        new Core("nonlocal_attention/100-rois-c16-5x5", 100, 16, 16, 25),
        // More keys than one 224-key block, channel counts off the 16/64 chunk sizes, a partial query tile.
        new Core("nonlocal_attention/2-rois-300-positions-odd-channels", 2, 20, 70, 300),
        new Core("nonlocal_attention/1-roi-single-position", 1, 8, 8, 1),
        new Block("nonlocal_block/0-rois", 0, 32, 14),
        new Block("nonlocal_block/1-roi-c64-14x14", 1, 64, 14),
        new Block("nonlocal_block/7-rois-c32-14x14", 7, 32, 14),
        new Block("nonlocal_block/100-rois-c16-5x5", 100, 16, 5),
    ];

    private sealed class Core(string name, int rois, int dk, int dv, int positions) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            // Projections of post-ReLU features: logits of a few units, as at 1/sqrt(C) in BCNet.
            using var q = RandomTensors.Normal(device, 61, 1, rois, dk, positions);
            using var k = RandomTensors.Normal(device, 62, 1, rois, dk, positions);
            using var v = RandomTensors.Normal(device, 63, 1, rois, dv, positions);
            return [RandomTensors.ToCpu(NonLocalAttention.Attend(q, k, v, NonLocalAttention.BcnetScale(dk)))];
        }
    }

    private sealed class Block(string name, int rois, int channels, int size) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            float std = 1f / MathF.Sqrt(channels);
            using var x = RandomTensors.Uniform(device, 71, 0, 2, rois, channels, size, size);
            using var wq = RandomTensors.Normal(device, 72, std, channels, channels, 1, 1);
            using var wk = RandomTensors.Normal(device, 73, std, channels, channels, 1, 1);
            using var wv = RandomTensors.Normal(device, 74, std, channels, channels, 1, 1);
            using var wo = RandomTensors.Normal(Device.Cpu, 75, std, channels, channels, 1, 1);
            using var gamma = RandomTensors.Uniform(Device.Cpu, 76, 0.5f, 1.5f, channels);
            using var beta = RandomTensors.Uniform(Device.Cpu, 77, -0.5f, 0.5f, channels);
            using var mean = RandomTensors.Uniform(Device.Cpu, 78, -0.2f, 0.2f, channels);
            using var variance = RandomTensors.Uniform(Device.Cpu, 79, 0.5f, 1.5f, channels);
            var (foldedCpu, shiftCpu) = NonLocalAttention.FoldBatchNorm(wo, gamma, beta, mean, variance);
            using var folded = RandomTensors.OnDevice(foldedCpu, device);
            using var shift = RandomTensors.OnDevice(shiftCpu, device);
            return [RandomTensors.ToCpu(NonLocalAttention.Forward(x, wq, wk, wv, folded, shift, NonLocalAttention.BcnetScale(channels)))];
        }
    }
}
