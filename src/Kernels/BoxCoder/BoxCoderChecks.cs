using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoxCoder;

internal static class BoxCoderChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Decode("box_decode/detectron2-roi-heads-clip", 53, 3, BoxWeights.RoiHeads, BoxConvention.Detectron2, (61, 83)),
        new Decode("box_decode/maskrcnn-benchmark-clip", 41, 2, BoxWeights.RoiHeads, BoxConvention.MaskRcnnBenchmark, (61, 83)),
        new Decode("box_decode/rpn-no-clip", 77, 1, BoxWeights.Rpn, BoxConvention.Detectron2, null),
        new Decode("box_decode/empty", 0, 4, BoxWeights.RoiHeads, BoxConvention.Detectron2, (10, 10)),
        new Encode("box_encode/roi-heads", 67, BoxWeights.RoiHeads, BoxConvention.Detectron2),
        new Encode("box_encode/rpn", 45, BoxWeights.Rpn, BoxConvention.Detectron2),
        new Encode("box_encode/maskrcnn-benchmark", 29, BoxWeights.RoiHeads, BoxConvention.MaskRcnnBenchmark),
        new Encode("box_encode/empty", 0, BoxWeights.Rpn, BoxConvention.Detectron2),
        new Keep("box_keep/remove-small-1e-3", 1e-3f, false),
        new Keep("box_keep/nonempty-strict-0", 0, true),
        new Clip("box_clip/over-every-edge-and-nan", 57, 61, 83),
    ];

    /// <summary>
    /// Reference boxes (some zero-width, some outside a 61×83 image) and deltas whose dw, dh often exceed
    /// the log(1000/16) clamp once divided by the weights.
    /// </summary>
    internal static (float[] Deltas, float[] Boxes) RandomDeltas(int seed, int rows, int perRow)
    {
        var rng = new Random(seed);
        var boxes = new float[rows * 4];
        var deltas = new float[rows * perRow * 4];
        for (int r = 0; r < rows; r++)
        {
            float x = (float)(rng.NextDouble() * 120 - 20), y = (float)(rng.NextDouble() * 90 - 15);
            float w = r % 7 == 3 ? 0 : (float)(rng.NextDouble() * 60), h = (float)(rng.NextDouble() * 50);
            boxes[r * 4] = x;
            boxes[r * 4 + 1] = y;
            boxes[r * 4 + 2] = x + w;
            boxes[r * 4 + 3] = y + h;
        }
        for (int i = 0; i < deltas.Length; i++)
            deltas[i] = (float)((rng.NextDouble() * 2 - 1) * (i % 4 < 2 ? 3 : 30));
        return (deltas, boxes);
    }

    private sealed class Decode(string name, int rows, int perRow, BoxWeights weights, BoxConvention convention, (int, int)? clip) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var (d, b) = RandomDeltas(rows + perRow, rows, perRow);
            using var deltas = RandomTensors.OnDevice(Tensor.FromArray(d, rows, perRow * 4), device);
            using var boxes = RandomTensors.OnDevice(Tensor.FromArray(b, rows, 4), device);
            return [RandomTensors.ToCpu(BoxCoder.Decode(deltas, boxes, weights, convention, clip))];
        }
    }

    /// <summary>Targets are the reference boxes moved and rescaled, so every delta is finite.</summary>
    internal static (float[] Targets, float[] References) RandomPairs(int seed, int rows)
    {
        var rng = new Random(seed);
        var references = new float[rows * 4];
        var targets = new float[rows * 4];
        for (int r = 0; r < rows; r++)
        {
            float x = (float)(rng.NextDouble() * 200 - 20), y = (float)(rng.NextDouble() * 150 - 15);
            float w = (float)(1 + rng.NextDouble() * 120), h = (float)(1 + rng.NextDouble() * 90);
            references[r * 4] = x;
            references[r * 4 + 1] = y;
            references[r * 4 + 2] = x + w;
            references[r * 4 + 3] = y + h;
            float tx = x + (float)((rng.NextDouble() - 0.5) * w), ty = y + (float)((rng.NextDouble() - 0.5) * h);
            float tw = w * (float)(0.25 + rng.NextDouble() * 3), th = h * (float)(0.25 + rng.NextDouble() * 3);
            targets[r * 4] = tx;
            targets[r * 4 + 1] = ty;
            targets[r * 4 + 2] = tx + tw;
            targets[r * 4 + 3] = ty + th;
        }
        return (targets, references);
    }

    private sealed class Encode(string name, int rows, BoxWeights weights, BoxConvention convention) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var (t, r) = RandomPairs(rows + 3, rows);
            using var targets = RandomTensors.OnDevice(Tensor.FromArray(t, rows, 4), device);
            using var references = RandomTensors.OnDevice(Tensor.FromArray(r, rows, 4), device);
            return [RandomTensors.ToCpu(BoxCoder.Encode(targets, references, weights, convention))];
        }
    }

    private sealed class Keep(string name, float minSize, bool strict) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            const int count = 203;
            var rng = new Random(17);
            var boxes = new float[count * 4];
            float[] sides = [0, 1e-4f, 1e-3f, 2e-3f, -1, 5];
            for (int i = 0; i < count; i++)
            {
                float x = (float)(rng.NextDouble() * 50), y = (float)(rng.NextDouble() * 50);
                boxes[i * 4] = x;
                boxes[i * 4 + 1] = y;
                boxes[i * 4 + 2] = x + sides[rng.Next(sides.Length)];
                boxes[i * 4 + 3] = y + sides[rng.Next(sides.Length)];
            }
            using var t = RandomTensors.OnDevice(Tensor.FromArray(boxes, count, 4), device);
            return [RandomTensors.ToCpu(BoxCoder.KeepMask(t, minSize, strict))];
        }
    }

    /// <summary>Boxes hanging over every edge of the image, some wholly outside it, with a NaN corner and an infinite one.</summary>
    private sealed class Clip(string name, int count, int height, int width) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var rng = new Random(count);
            var boxes = new float[count * 4];
            for (int i = 0; i < boxes.Length; i++) boxes[i] = (float)(rng.NextDouble() * 2.4 - 0.7) * (i % 2 == 0 ? width : height);
            boxes[5] = float.NaN;
            boxes[10] = float.PositiveInfinity;
            using var t = RandomTensors.OnDevice(Tensor.FromArray(boxes, count, 4), device);
            return [RandomTensors.ToCpu(BoxCoder.Clip(t, height, width))];
        }
    }
}
