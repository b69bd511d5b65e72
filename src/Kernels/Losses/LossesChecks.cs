using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>Each loss's value and input gradient, with an upstream gradient of 0.5 so it is not taken as 1.</summary>
internal static class LossesChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new CrossEntropy("cross_entropy/mean-81-classes", 37, 81, 3f, LossReduction.Mean, 1f),
        new CrossEntropy("cross_entropy/sum-explicit-normaliser", 29, 7, 1f, LossReduction.Sum, 1f / 64),
        new CrossEntropy("cross_entropy/large-logits-no-overflow", 6, 5, 80f, LossReduction.Mean, 1f),
        new CrossEntropy("cross_entropy/no-rows-sum", 0, 81, 1f, LossReduction.Sum, 1f),
        new CrossEntropy("cross_entropy/no-rows-mean-is-nan", 0, 81, 1f, LossReduction.Mean, 1f),
        new Pointwise("bce_with_logits/mean-hard-targets", Kind.Bce, [5, 28, 28], 4f, 0, LossReduction.Mean, 1f),
        new Pointwise("bce_with_logits/sum-large-logits", Kind.Bce, [3, 7, 9], 80f, 0, LossReduction.Sum, 0.25f),
        new Pointwise("bce_with_logits/empty-mean-is-nan", Kind.Bce, [0, 28, 28], 1f, 0, LossReduction.Mean, 1f),
        new Pointwise("smooth_l1/beta-1-9-sum-explicit-normaliser", Kind.SmoothL1, [333, 4], 0.3f, 1f / 9, LossReduction.Sum, 1f / 512),
        new Pointwise("smooth_l1/beta-1-mean", Kind.SmoothL1, [70000], 2f, 1f, LossReduction.Mean, 1f),
        new Pointwise("smooth_l1/empty-sum", Kind.SmoothL1, [0, 4], 1f, 1f / 9, LossReduction.Sum, 1f),
        new Pointwise("l1/mean", Kind.L1, [41, 4], 1f, 0, LossReduction.Mean, 1f),
    ];

    private const float Upstream = 0.5f;

    private static Tensor UpstreamOn(Device device) => RandomTensors.OnDevice(Tensor.FromArray([Upstream], 1), device);

    private sealed class CrossEntropy(string name, int rows, int classes, float std, LossReduction reduction, float scale) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var rng = new Random(rows * 31 + classes);
            var labels = new long[rows];
            for (int r = 0; r < rows; r++) labels[r] = rng.Next(classes);
            using var logits = RandomTensors.Normal(device, rows + 7, std, rows, classes);
            using var targets = RandomTensors.OnDevice(Tensor.FromArray(labels, rows), device);
            using var upstream = UpstreamOn(device);
            return
            [
                RandomTensors.ToCpu(CrossEntropyLoss.Forward(logits, targets, reduction, scale)),
                RandomTensors.ToCpu(CrossEntropyLoss.Backward(logits, targets, reduction, scale, upstream)),
            ];
        }
    }

    private enum Kind { Bce, SmoothL1, L1 }

    /// <summary>
    /// Inputs of standard deviation <paramref name="std"/>; every seventh target equals its input (L1's
    /// sign(0) and smooth-L1's zero), the rest are in [0, 1] for BCE (every other one hard) or near the input.
    /// </summary>
    private sealed class Pointwise(string name, Kind kind, int[] shape, float std, float beta, LossReduction reduction, float scale) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var inputCpu = RandomTensors.Normal(Device.Cpu, 13, std, shape);
            var x = inputCpu.AsSpan<float>();
            var rng = new Random(17);
            var t = new float[x.Length];
            for (int i = 0; i < t.Length; i++)
            {
                float u = (float)rng.NextDouble();
                t[i] = i % 7 == 0 ? x[i] : kind == Kind.Bce ? (i % 2 == 0 ? MathF.Round(u) : u) : x[i] + (u - 0.5f) * std;
            }
            using var input = inputCpu.To(device);
            using var target = RandomTensors.OnDevice(Tensor.FromArray(t, shape), device);
            using var upstream = UpstreamOn(device);
            return
            [
                RandomTensors.ToCpu(kind switch
                {
                    Kind.Bce => BinaryCrossEntropyLoss.Forward(input, target, reduction, scale),
                    Kind.SmoothL1 => SmoothL1Loss.Forward(input, target, beta, reduction, scale),
                    _ => L1Loss.Forward(input, target, reduction, scale),
                }),
                RandomTensors.ToCpu(kind switch
                {
                    Kind.Bce => BinaryCrossEntropyLoss.Backward(input, target, reduction, scale, upstream),
                    Kind.SmoothL1 => SmoothL1Loss.Backward(input, target, beta, reduction, scale, upstream),
                    _ => L1Loss.Backward(input, target, reduction, scale, upstream),
                }),
            ];
        }
    }
}
