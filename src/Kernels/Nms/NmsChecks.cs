using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Nms;

internal static class NmsChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("nms/ties-duplicates-5-classes", 300, 5, 8, 0.5f, false, false),
        new Case("nms/one-class-rpn-0.7", 1000, 1, 0, 0.7f, false, false),
        new Case("nms/plus-one-odd-count", 131, 3, 20, 0.5f, true, false),
        new Case("nms/padded-many-classes", 200, 60, 4, 0.3f, false, true),
        new Case("nms/all-equal-scores", 97, 2, 1, 0.5f, false, false),
        new Case("nms/empty", 0, 1, 0, 0.5f, false, true),
        new SegmentedCase("nms/segmented-3x150-4-classes", 3, 150, 4, 8, 0.5f, false),
        new SegmentedCase("nms/segmented-81x70-box-head", 81, 70, 1, 6, 0.5f, false),
        new SegmentedCase("nms/segmented-plus-one-odd", 5, 131, 3, 0, 0.7f, true),
        new SegmentedCase("nms/segmented-empty-segments", 4, 0, 1, 0, 0.5f, false),
    ];

    /// <summary>
    /// Clustered boxes (so suppression happens) with exact duplicates, zero-area and inverted boxes, and
    /// scores drawn from <paramref name="scoreLevels"/> values (0 = continuous) so many scores tie exactly.
    /// </summary>
    internal static (float[] Boxes, float[] Scores, long[] Classes) RandomDetections(int seed, int n, int classCount, int scoreLevels)
    {
        var rng = new Random(seed);
        var boxes = new float[n * 4];
        var scores = new float[n];
        var classes = new long[n];
        var centres = new (float X, float Y, float W, float H)[Math.Max(1, n / 24)];
        for (int c = 0; c < centres.Length; c++)
            centres[c] = ((float)(rng.NextDouble() * 600), (float)(rng.NextDouble() * 400), (float)(10 + rng.NextDouble() * 90), (float)(10 + rng.NextDouble() * 90));
        for (int i = 0; i < n; i++)
        {
            classes[i] = rng.Next(classCount);
            scores[i] = scoreLevels > 0 ? rng.Next(scoreLevels) / (float)scoreLevels : (float)rng.NextDouble();
            if (i % 10 == 9)
            {
                // An exact copy of an earlier box (usually with another score and class).
                int j = rng.Next(i);
                boxes.AsSpan(j * 4, 4).CopyTo(boxes.AsSpan(i * 4, 4));
                continue;
            }
            // Boxes around a centre share its size up to ±20% and sit within 15% of it: IoUs spread around the thresholds.
            var (cx, cy, cw, ch) = centres[rng.Next(centres.Length)];
            float x = cx + (float)((rng.NextDouble() - 0.5) * 0.3 * cw), y = cy + (float)((rng.NextDouble() - 0.5) * 0.3 * ch);
            float w = cw * (float)(0.8 + rng.NextDouble() * 0.4), h = ch * (float)(0.8 + rng.NextDouble() * 0.4);
            if (i % 23 == 7) w = 0;
            if (i % 29 == 11) h = -h * 0.5f;
            boxes[i * 4] = x;
            boxes[i * 4 + 1] = y;
            boxes[i * 4 + 2] = x + w;
            boxes[i * 4 + 3] = y + h;
        }
        return (boxes, scores, classes);
    }

    /// <summary>
    /// <paramref name="segments"/> segments of n boxes each, every one drawn like a one-segment case with its own seed;
    /// every other segment has a quarter of its candidates demoted (−inf, class −1) as a filter leaves them.
    /// </summary>
    private sealed class SegmentedCase(string name, int segments, int n, int classCount, int scoreLevels, float threshold, bool plusOne) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var (b, s, c) = (new float[segments * n * 4], new float[segments * n], new long[segments * n]);
            for (int g = 0; g < segments; g++)
            {
                var (gb, gs, gc) = RandomDetections(g + n, n, classCount, scoreLevels);
                if (g % 2 == 1)
                {
                    for (int i = 0; i < n; i += 4) (gs[i], gc[i]) = (float.NegativeInfinity, -1);
                }
                gb.CopyTo(b, g * n * 4);
                gs.CopyTo(s, g * n);
                gc.CopyTo(c, g * n);
            }
            using var boxes = RandomTensors.OnDevice(Tensor.FromArray(b, segments, n, 4), device);
            using var scores = RandomTensors.OnDevice(Tensor.FromArray(s, segments, n), device);
            using var classes = RandomTensors.OnDevice(Tensor.FromArray(c, segments, n), device);
            var (keep, count) = Nms.Segmented(boxes, scores, classes, threshold, plusOne);
            return [RandomTensors.ToCpu(keep), RandomTensors.ToCpu(count)];
        }
    }

    private sealed class Case(string name, int n, int classCount, int scoreLevels, float threshold, bool plusOne, bool padded) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var (b, s, c) = RandomDetections(n + classCount, n, classCount, scoreLevels);
            using var boxes = RandomTensors.OnDevice(Tensor.FromArray(b, n, 4), device);
            using var scores = RandomTensors.OnDevice(Tensor.FromArray(s, n), device);
            using var classes = RandomTensors.OnDevice(Tensor.FromArray(c, n), device);
            if (!padded) return [RandomTensors.ToCpu(Nms.Batched(boxes, scores, classes, threshold, plusOne))];
            var (keep, count) = Nms.BatchedPadded(boxes, scores, classes, threshold, plusOne);
            return [RandomTensors.ToCpu(keep), RandomTensors.ToCpu(count)];
        }
    }
}
