using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Blend;

internal static class SoftmaxBlendChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("softmax_blend/blendmask-4x56x56", 7, 4, 56, 56, 4),
        // Logits up to ±60: exp overflows unless the maximum is subtracted first.
        new Case("softmax_blend/large-logits", 3, 5, 9, 11, 60),
        new Case("softmax_blend/one-basis", 2, 1, 6, 5, 4),
        new Case("softmax_blend/no-items", 0, 4, 56, 56, 4),
    ];

    private sealed class Case(string name, int items, int k, int h, int w, float spread) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var logits = RandomTensors.Uniform(device, 1, -spread, spread, items, k, h, w);
            using var values = RandomTensors.Uniform(device, 2, -3, 3, items, k, h, w);
            return [RandomTensors.ToCpu(SoftmaxBlend.Forward(logits, values))];
        }
    }
}
