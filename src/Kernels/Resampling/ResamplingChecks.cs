using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

internal static class ResamplingChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("resize_nearest/fpn-scale-2", [1, 3, 5, 7], x => Resize.NearestScaled(x, 2.0, 2.0)),
        new Case("resize_nearest/size-up-odd", [2, 2, 3, 5], x => Resize.Nearest(x, 7, 11)),
        new Case("resize_nearest/size-down-odd", [1, 2, 13, 9], x => Resize.Nearest(x, 5, 4)),
        new Case("resize_nearest/scale-non-integer", [1, 1, 6, 5], x => Resize.NearestScaled(x, 1.7, 0.6)),
        new Case("resize_bilinear/up-half-pixel", [2, 3, 4, 5], x => Resize.Bilinear(x, 9, 13, alignCorners: false)),
        new Case("resize_bilinear/up-align-corners", [1, 2, 4, 5], x => Resize.Bilinear(x, 9, 13, alignCorners: true)),
        new Case("resize_bilinear/down-half-pixel", [1, 2, 17, 12], x => Resize.Bilinear(x, 5, 7, alignCorners: false)),
        new Case("resize_bilinear/down-align-corners", [1, 2, 17, 12], x => Resize.Bilinear(x, 5, 7, alignCorners: true)),
        new Case("resize_bilinear/scale-4", [1, 4, 3, 3], x => Resize.BilinearScaled(x, 4.0, 4.0, alignCorners: false)),
        new Case("resize_bilinear/to-one-pixel", [1, 1, 6, 4], x => Resize.Bilinear(x, 1, 1, alignCorners: false)),
        new Case("resize_bilinear/empty-batch", [0, 2, 4, 4], x => Resize.Bilinear(x, 8, 8, alignCorners: false)),
        new BackwardCase("resize_nearest_backward/fpn-scale-2", [1, 3, 10, 14], g => Resize.NearestScaledBackward(g, 5, 7, 2.0, 2.0)),
        new BackwardCase("resize_nearest_backward/size-up-odd", [2, 2, 7, 11], g => Resize.NearestBackward(g, 3, 5)),
        new BackwardCase("resize_nearest_backward/size-down-odd-skips", [1, 2, 5, 4], g => Resize.NearestBackward(g, 13, 9)),
        new BackwardCase("resize_nearest_backward/scale-non-integer", [1, 1, 10, 3], g => Resize.NearestScaledBackward(g, 6, 5, 1.7, 0.6)),
        new BackwardCase("resize_nearest_backward/empty-batch", [0, 2, 8, 8], g => Resize.NearestBackward(g, 4, 4)),
        new BackwardCase("resize_bilinear_backward/up-4-half-pixel", [2, 3, 16, 16], g => Resize.BilinearBackward(g, 4, 4, alignCorners: false)),
        new BackwardCase("resize_bilinear_backward/up-odd-align-corners", [1, 2, 9, 13], g => Resize.BilinearBackward(g, 4, 5, alignCorners: true)),
        new BackwardCase("resize_bilinear_backward/down-half-pixel", [1, 2, 5, 7], g => Resize.BilinearBackward(g, 17, 12, alignCorners: false)),
        new BackwardCase("resize_bilinear_backward/same-size", [1, 1, 6, 4], g => Resize.BilinearBackward(g, 6, 4, alignCorners: false)),
        new BackwardCase("resize_bilinear_backward/empty-batch", [0, 2, 8, 8], g => Resize.BilinearBackward(g, 4, 4, alignCorners: false)),
    ];

    private sealed class Case(string name, int[] shape, Func<Tensor, Tensor> op) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 31, -4, 4, shape);
            return [RandomTensors.ToCpu(op(x))];
        }
    }

    /// <summary>Runs a backward op on a seeded gradient of the given output shape.</summary>
    private sealed class BackwardCase(string name, int[] gradShape, Func<Tensor, Tensor> op) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var gradOutput = RandomTensors.Normal(device, 32, 1, gradShape);
            return [RandomTensors.ToCpu(op(gradOutput))];
        }
    }
}
