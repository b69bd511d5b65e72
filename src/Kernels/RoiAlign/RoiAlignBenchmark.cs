using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

/// <summary>Multi-level RoIAlign of the box (7×7) and mask (14×14) heads over the P2–P5 maps of an 800×1333 image.</summary>
internal sealed class RoiAlignBenchmark : KernelBenchmark<RoiAlignBenchmark.Size>
{
    public sealed record Size(string Name, int Rois, int Channels, int ImageHeight, int ImageWidth, int Output, int Sampling, bool Aligned)
    {
        /// <summary>P2..P5 sizes after padding the image to a multiple of 32.</summary>
        public (int H, int W)[] Levels
        {
            get
            {
                int h = (ImageHeight + 31) / 32 * 32, w = (ImageWidth + 31) / 32 * 32;
                return [(h / 4, w / 4), (h / 8, w / 8), (h / 16, w / 16), (h / 32, w / 32)];
            }
        }
    }

    private static readonly float[] Scales = [1f / 4, 1f / 8, 1f / 16, 1f / 32];

    public override string Name => "roi_align";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small =>
        [
            new("box-d2", 50, 16, 128, 160, 7, 0, true),
            new("mask-tv", 20, 16, 128, 160, 14, 2, false),
        ],
        BenchmarkPreset.Paper =>
        [
            new("box-d2", 1000, 256, 800, 1333, 7, 0, true),
            new("box-tv", 1000, 256, 800, 1333, 7, 2, false),
            new("mask-d2", 1000, 256, 800, 1333, 14, 0, true),
            new("mask-tv", 1000, 256, 800, 1333, 14, 2, false),
        ],
        BenchmarkPreset.Large =>
        [
            new("box-d2-b2", 4000, 256, 800, 1333, 7, 0, true),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Rois}x{s.Channels}x{s.Output}x{s.Output}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // About four samples per bin (2×2 grid) of four taps, a multiply-add each, then the average.
        long outputs = (long)s.Rois * s.Channels * s.Output * s.Output;
        long features = s.Levels.Sum(l => (long)s.Channels * l.H * l.W);
        return (outputs * 4 * 4 * 2, (features + s.Rois * 6L + outputs) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var resources = new List<IDisposable>();
        var features = new List<Tensor>[copies];
        var rois = new Tensor[copies];
        var levels = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            features[i] = s.Levels.Select((l, k) => RandomTensors.Uniform(device, 10 * i + k, -1, 1, 1, s.Channels, l.H, l.W)).ToList();
            using var cpuRois = Tensor.FromArray(RandomRois(100 + i, s.Rois, s.ImageHeight, s.ImageWidth), s.Rois, 5);
            rois[i] = cpuRois.To(device);
            levels[i] = RoiAlign.AssignLevels(rois[i], s.Aligned ? LevelRule.Detectron2 : LevelRule.Torchvision);
            resources.AddRange(features[i]);
            resources.Add(rois[i]);
            resources.Add(levels[i]);
        }
        var options = new RoiAlignOptions(s.Output, s.Output, s.Sampling, s.Aligned);
        return new BenchmarkCase(copies, i => RoiAlign.Forward(features[i], Scales, rois[i], levels[i], options).Dispose(), resources);
    }

    /// <summary>Proposal-like boxes: log-uniform sides of 16 to 800 pixels, inside the image.</summary>
    internal static float[] RandomRois(int seed, int count, int imageHeight, int imageWidth)
    {
        var rng = new Random(seed);
        var rois = new float[count * 5];
        for (int r = 0; r < count; r++)
        {
            float w = MathF.Min(16 * MathF.Pow(50, (float)rng.NextDouble()), imageWidth - 1);
            float h = MathF.Min(16 * MathF.Pow(50, (float)rng.NextDouble()), imageHeight - 1);
            float x = (float)rng.NextDouble() * (imageWidth - w), y = (float)rng.NextDouble() * (imageHeight - h);
            rois[r * 5 + 1] = x;
            rois[r * 5 + 2] = y;
            rois[r * 5 + 3] = x + w;
            rois[r * 5 + 4] = y + h;
        }
        return rois;
    }
}
