using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoxIou;

internal static class BoxIouChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("box_iou/divide-gt-vs-anchors", 7, 301, IouZeroArea.Divide),
        new Case("box_iou/zero-degenerate-boxes", 13, 97, IouZeroArea.Zero),
        new Case("box_iou/empty-gt", 0, 50, IouZeroArea.Divide),
    ];

    /// <summary>
    /// Boxes clustered so that many pairs overlap, with exact duplicates across the two sets and, in every
    /// ninth box, a zero width: pairs of those are the divide convention's NaN.
    /// </summary>
    internal static float[] RandomBoxes(int seed, int count)
    {
        var rng = new Random(seed);
        var boxes = new float[count * 4];
        for (int i = 0; i < count; i++)
        {
            float x = (float)(rng.NextDouble() * 80), y = (float)(rng.NextDouble() * 60);
            float w = i % 9 == 4 ? 0 : (float)(rng.NextDouble() * 50), h = (float)(rng.NextDouble() * 40);
            if (i % 5 == 2) (x, y, w, h) = (10, 10, 30, 20);
            boxes[i * 4] = x;
            boxes[i * 4 + 1] = y;
            boxes[i * 4 + 2] = x + w;
            boxes[i * 4 + 3] = y + h;
        }
        return boxes;
    }

    private sealed class Case(string name, int rows, int cols, IouZeroArea zeroArea) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var boxes1 = RandomTensors.OnDevice(Tensor.FromArray(RandomBoxes(rows + 1, rows), rows, 4), device);
            using var boxes2 = RandomTensors.OnDevice(Tensor.FromArray(RandomBoxes(cols + 2, cols), cols, 4), device);
            return [RandomTensors.ToCpu(BoxIou.Pairwise(boxes1, boxes2, zeroArea))];
        }
    }
}
