using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>
/// Each loss's forward and backward at a detection head's sizes: box-head classification (R×81), box
/// regression (R×4 smooth-L1) and mask logits (R×28×28 BCE).
/// </summary>
internal sealed class LossBenchmark : KernelBenchmark<LossBenchmark.Size>
{
    public enum Loss { CrossEntropy, BinaryCrossEntropy, SmoothL1 }

    public sealed record Size(Loss Loss, int[] Shape);

    public override string Name => "loss";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(Loss.CrossEntropy, [64, 81]), new(Loss.BinaryCrossEntropy, [8, 28, 28]), new(Loss.SmoothL1, [64, 4])],
        BenchmarkPreset.Paper => [new(Loss.CrossEntropy, [1024, 81]), new(Loss.BinaryCrossEntropy, [256, 28, 28]), new(Loss.SmoothL1, [1024, 4])],
        BenchmarkPreset.Large => [new(Loss.CrossEntropy, [8192, 81]), new(Loss.BinaryCrossEntropy, [2048, 28, 28]), new(Loss.SmoothL1, [8192, 4])],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Loss} {string.Join("x", s.Shape)}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // Forward and backward each read the inputs once and exponentiate (or compare) per element: about
        // ten operations per element in all; the backward writes the gradient.
        long n = new Shape(s.Shape).Numel;
        long targets = s.Loss == Loss.CrossEntropy ? s.Shape[0] * 2L : 2 * n;
        return (10 * n, (3 * n + 2 * n + targets) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var inputs = new Tensor[copies];
        var targets = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            inputs[i] = RandomTensors.Normal(device, i + 1, 2, s.Shape);
            targets[i] = s.Loss == Loss.CrossEntropy
                ? RandomTensors.OnDevice(Tensor.FromArray(Enumerable.Range(0, s.Shape[0]).Select(r => (long)(r * 7 % s.Shape[1])).ToArray(), s.Shape[0]), device)
                : RandomTensors.Uniform(device, i + 100, 0, 1, s.Shape);
        }
        return new BenchmarkCase(copies, i => Run(s.Loss, inputs[i], targets[i]), [.. inputs, .. targets]);
    }

    private static void Run(Loss loss, Tensor input, Tensor target)
    {
        using var value = loss switch
        {
            Loss.CrossEntropy => CrossEntropyLoss.Forward(input, target),
            Loss.BinaryCrossEntropy => BinaryCrossEntropyLoss.Forward(input, target),
            _ => SmoothL1Loss.Forward(input, target, 1f / 9, LossReduction.Sum, 1f / 512),
        };
        using var grad = loss switch
        {
            Loss.CrossEntropy => CrossEntropyLoss.Backward(input, target),
            Loss.BinaryCrossEntropy => BinaryCrossEntropyLoss.Backward(input, target),
            _ => SmoothL1Loss.Backward(input, target, 1f / 9, LossReduction.Sum, 1f / 512),
        };
    }
}
