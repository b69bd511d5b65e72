using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoxCoder;

/// <summary>
/// Box decoding as the RPN runs it (every anchor of an 800×1333 image: 3 anchors at each P2–P6 position,
/// one class) and as the box head does (1000 proposals × 81 classes), then the small-box filter on the
/// decoded proposals. All clip to the image. In training, encoding the 512 sampled RoIs' regression targets
/// and every anchor's RPN target. And the output clip of a detectron2 model's 100 detections.
/// </summary>
internal sealed class BoxCoderBenchmark : KernelBenchmark<BoxCoderBenchmark.Size>
{
    public sealed record Size(string Name, int Boxes, int Classes, bool Keep, bool Encode = false, bool Clip = false);

    private const int ImageHeight = 800, ImageWidth = 1333;

    public override string Name => "box_coder";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("rpn-decode", 3000, 1, false), new("head-decode", 100, 81, false), new("keep", 3000, 1, true), new("rpn-encode", 3000, 1, false, true),
            new("output-clip", 100, 1, false, Clip: true)],
        // About the 3 × (200·334 + 100·167 + 50·84 + 25·42 + 13·21) = 267,069 anchors on P2–P6 (the name keeps the first count used).
        BenchmarkPreset.Paper => [new("rpn-decode", 267582, 1, false), new("head-decode", 1000, 81, false), new("keep", 267582, 1, true),
            new("rpn-encode", 267582, 1, false, true), new("roi-encode", 512, 1, false, true), new("output-clip", 100, 1, false, Clip: true)],
        BenchmarkPreset.Large => [new("rpn-decode", 1070328, 1, false)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => s.Classes == 1 ? $"{s.Name} {s.Boxes}" : $"{s.Name} {s.Boxes}x{s.Classes}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long outputs = (long)s.Boxes * s.Classes;
        // Decode: about 20 operations per box (centre, size, two exps, clip); keep: two subtractions and compares.
        if (s.Clip) return (8 * outputs, outputs * 8 * sizeof(float));
        return s.Keep
            ? (4 * outputs, outputs * (4 * sizeof(float) + 1))
            : (20 * outputs, (outputs * 4 * 2 + s.Boxes * 4L) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var deltas = new Tensor[copies];
        var boxes = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            deltas[i] = RandomTensors.Normal(device, 10 * i + 1, 0.5f, s.Boxes, 4 * s.Classes);
            boxes[i] = RandomTensors.OnDevice(Tensor.FromArray(RandomBoxes(10 * i + 2, s.Boxes), s.Boxes, 4), device);
        }
        var weights = s.Classes == 1 ? BoxWeights.Rpn : BoxWeights.RoiHeads;
        Tensor[] targets = s.Encode ? [.. Enumerable.Range(0, copies).Select(i => RandomTensors.OnDevice(Tensor.FromArray(RandomBoxes(10 * i + 3, s.Boxes), s.Boxes, 4), device))] : [];
        Action<int> run = s switch
        {
            { Keep: true } => i => BoxCoder.KeepMask(boxes[i]).Dispose(),
            { Clip: true } => i => BoxCoder.Clip(boxes[i], ImageHeight, ImageWidth).Dispose(),
            { Encode: true } => i => BoxCoder.Encode(targets[i], boxes[i], weights, BoxConvention.Detectron2).Dispose(),
            _ => i => BoxCoder.Decode(deltas[i], boxes[i], weights, BoxConvention.Detectron2, (ImageHeight, ImageWidth)).Dispose(),
        };
        return new BenchmarkCase(copies, run, [.. deltas, .. boxes, .. targets]);
    }

    /// <summary>Anchor-like boxes: sides of 8 to 700 pixels centred anywhere in the image, some overhanging it.</summary>
    internal static float[] RandomBoxes(int seed, int count)
    {
        var rng = new Random(seed);
        var boxes = new float[count * 4];
        for (int i = 0; i < count; i++)
        {
            float cx = (float)rng.NextDouble() * ImageWidth, cy = (float)rng.NextDouble() * ImageHeight;
            float w = 8 * MathF.Pow(88, (float)rng.NextDouble()), h = 8 * MathF.Pow(88, (float)rng.NextDouble());
            boxes[i * 4] = cx - w / 2;
            boxes[i * 4 + 1] = cy - h / 2;
            boxes[i * 4 + 2] = cx + w / 2;
            boxes[i * 4 + 3] = cy + h / 2;
        }
        return boxes;
    }
}
