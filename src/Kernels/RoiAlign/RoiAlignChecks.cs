using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

internal static class RoiAlignChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Pool("roi_align/aligned-adaptive-boxes-outside", 37, 2, 5, new RoiAlignOptions(7, 7, 0, true)),
        new Pool("roi_align/legacy-sampling2-odd-output", 23, 1, 3, new RoiAlignOptions(5, 3, 2, false)),
        new Pool("roi_align/aligned-sampling1-14x14", 9, 2, 4, new RoiAlignOptions(14, 14, 1, true)),
        new Pool("roi_align/no-rois", 0, 2, 4, new RoiAlignOptions(7, 7, 0, true)),
        new Backward("roi_align_backward/aligned-adaptive-boxes-outside", 37, 2, 5, new RoiAlignOptions(7, 7, 0, true)),
        new Backward("roi_align_backward/legacy-adaptive-14x14", 19, 2, 3, new RoiAlignOptions(14, 14, 0, false)),
        new Backward("roi_align_backward/legacy-sampling2-odd-output", 23, 1, 3, new RoiAlignOptions(5, 3, 2, false)),
        new Backward("roi_align_backward/aligned-sampling2-5x4", 29, 3, 4, new RoiAlignOptions(5, 4, 2, true)),
        new Backward("roi_align_backward/no-rois", 0, 2, 4, new RoiAlignOptions(7, 7, 0, true)),
        new Levels("roi_align/levels-detectron2", LevelRule.Detectron2),
        new Levels("roi_align/levels-torchvision", LevelRule.Torchvision),
        new Levels("roi_align/levels-maskrcnn-benchmark", LevelRule.MaskRcnnBenchmark),
    ];

    private const int ImageHeight = 61, ImageWidth = 83;

    private static readonly int[] Strides = [4, 8, 16, 32];

    /// <summary>
    /// RoIs in a 61×83 image: random boxes, boxes partly or wholly outside the image, zero-size and
    /// inverted boxes, and a box exactly on the 224-pixel level boundary.
    /// </summary>
    internal static float[] RandomRois(int seed, int count, int batch)
    {
        var rng = new Random(seed);
        var rois = new float[count * 5];
        for (int i = 0; i < count; i++)
        {
            float x1 = (float)(rng.NextDouble() * 120 - 20), y1 = (float)(rng.NextDouble() * 90 - 15);
            float w = (float)(rng.NextDouble() * 70), h = (float)(rng.NextDouble() * 60);
            switch (i % 6)
            {
                case 3: w = 0; break;
                case 4: (w, h) = (-w * 0.25f, -h * 0.25f); break;
                case 5 when i % 12 == 5: (x1, y1, w, h) = (-300, -300, 224, 224); break;
            }
            rois[i * 5] = rng.Next(batch);
            rois[i * 5 + 1] = x1;
            rois[i * 5 + 2] = y1;
            rois[i * 5 + 3] = x1 + w;
            rois[i * 5 + 4] = y1 + h;
        }
        return rois;
    }

    private static Shape[] FeatureShapes(int batch, int channels) =>
        Array.ConvertAll(Strides, s => new Shape(batch, channels, (ImageHeight + s - 1) / s, (ImageWidth + s - 1) / s));

    private static float[] Scales => Array.ConvertAll(Strides, s => 1f / s);

    /// <summary>RandomRois on <paramref name="device"/>, each on a random level.</summary>
    private static (Tensor Rois, Tensor Levels) RoisOnLevels(Device device, int roiCount, int batch)
    {
        var rng = new Random(roiCount);
        var levelData = new int[roiCount];
        for (int i = 0; i < roiCount; i++) levelData[i] = rng.Next(Strides.Length);
        var rois = RandomTensors.OnDevice(Tensor.FromArray(RandomRois(roiCount, roiCount, batch), roiCount, 5), device);
        return (rois, RandomTensors.OnDevice(Tensor.FromArray(levelData, roiCount), device));
    }

    private sealed class Pool(string name, int roiCount, int batch, int channels, RoiAlignOptions options) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var shapes = FeatureShapes(batch, channels);
            var features = shapes.Select((s, l) => RandomTensors.Uniform(device, 10 + l, -2, 2, s.ToArray())).ToList();
            try
            {
                var (rois, levels) = RoisOnLevels(device, roiCount, batch);
                using (rois)
                using (levels)
                    return [RandomTensors.ToCpu(RoiAlign.Forward(features, Scales, rois, levels, options))];
            }
            finally
            {
                foreach (var f in features) f.Dispose();
            }
        }
    }

    /// <summary>Every level's gradient for a random pooled gradient; levels no RoI sampled stay zero.</summary>
    private sealed class Backward(string name, int roiCount, int batch, int channels, RoiAlignOptions options) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var (rois, levels) = RoisOnLevels(device, roiCount, batch);
            using (rois)
            using (levels)
            using (var grad = RandomTensors.Uniform(device, 3, -1, 1, roiCount, channels, options.OutputHeight, options.OutputWidth))
                return Array.ConvertAll(RoiAlign.Backward(grad, FeatureShapes(batch, channels), Scales, rois, levels, options), RandomTensors.ToCpu);
        }
    }

    private sealed class Levels(string name, LevelRule rule) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            const int count = 257;
            var rng = new Random(5);
            var boxes = new float[count * 4];
            for (int i = 0; i < count; i++)
            {
                // Sides at powers of two times 224 sit on the level boundaries; the rest are log-uniform.
                float side = i % 4 == 0 ? 224f * MathF.Pow(2, rng.Next(-3, 3)) : MathF.Exp((float)(rng.NextDouble() * 7));
                float aspect = i % 4 == 0 ? 1 : (float)(0.25 + rng.NextDouble() * 4);
                float x = (float)(rng.NextDouble() * 500), y = (float)(rng.NextDouble() * 500);
                boxes[i * 4] = x;
                boxes[i * 4 + 1] = y;
                boxes[i * 4 + 2] = x + side * MathF.Sqrt(aspect);
                boxes[i * 4 + 3] = y + side / MathF.Sqrt(aspect);
            }
            using var t = RandomTensors.OnDevice(Tensor.FromArray(boxes, count, 4), device);
            return [RandomTensors.ToCpu(RoiAlign.AssignLevels(t, rule))];
        }
    }
}
