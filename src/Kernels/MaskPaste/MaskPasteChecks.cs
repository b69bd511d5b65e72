using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskPaste;

internal static class MaskPasteChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("mask_paste/detectron2-boxes-outside", 9, 28, 45, 67, PasteMethod.Detectron2),
        new Case("mask_paste/torchvision-boxes-outside", 9, 28, 45, 67, PasteMethod.Torchvision),
        new Case("mask_paste/detectron2-odd-mask", 4, 7, 33, 21, PasteMethod.Detectron2),
        new Case("mask_paste/torchvision-odd-mask", 4, 7, 33, 21, PasteMethod.Torchvision),
        new Case("mask_paste/no-masks", 0, 28, 10, 10, PasteMethod.Detectron2),
        new Probabilities("mask_paste/torchvision-probabilities", 9, 28, 45, 67),
        new Bits("mask_paste/torchvision-bits-counted", 9, 6, 28, 45, 67, PasteMethod.Torchvision),
        new Bits("mask_paste/torchvision-bits-odd-mask", 4, 4, 7, 33, 21, PasteMethod.Torchvision),
        new Bits("mask_paste/detectron2-bits-counted", 11, 8, 28, 45, 67, PasteMethod.Detectron2),
        new Bits("mask_paste/detectron2-bits-odd-mask", 4, 4, 7, 33, 21, PasteMethod.Detectron2),
    ];

    /// <summary>
    /// Boxes in an image of the given size: ordinary ones, ones hanging over every edge, sub-pixel and
    /// inverted ones, and one covering the whole image.
    /// </summary>
    internal static float[] RandomBoxes(int seed, int count, int height, int width)
    {
        var rng = new Random(seed);
        var boxes = new float[count * 4];
        for (int i = 0; i < count; i++)
        {
            float w = (float)(rng.NextDouble() * width * 0.8), h = (float)(rng.NextDouble() * height * 0.8);
            float x = (float)(rng.NextDouble() * (width + w) - w * 0.7), y = (float)(rng.NextDouble() * (height + h) - h * 0.7);
            switch (i % 5)
            {
                case 2: (w, h) = (0.4f, 0.7f); break;
                case 3: (x, y, w, h) = (-3.3f, -2.6f, width + 5.1f, height + 4.2f); break;
                case 4 when i % 10 == 9: (w, h) = (-w * 0.2f, -h * 0.2f); break;
            }
            boxes[i * 4] = x;
            boxes[i * 4 + 1] = y;
            boxes[i * 4 + 2] = x + w;
            boxes[i * 4 + 3] = y + h;
        }
        return boxes;
    }

    private sealed class Case(string name, int count, int m, int height, int width, PasteMethod method) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var masks = RandomTensors.Uniform(device, count + m, 0, 1, count, m, m);
            using var boxes = RandomTensors.OnDevice(Tensor.FromArray(RandomBoxes(count, count, height, width), count, 4), device);
            using var pasted = MaskPaste.Paste(masks, boxes, height, width, method);
            return [RandomTensors.ToCpu(pasted.Bits.Share())];
        }
    }

    private sealed class Probabilities(string name, int count, int m, int height, int width) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var masks = RandomTensors.Uniform(device, count + m, 0, 1, count, m, m);
            using var boxes = RandomTensors.OnDevice(Tensor.FromArray(RandomBoxes(count, count, height, width), count, 4), device);
            return [RandomTensors.ToCpu(MaskPaste.PasteProbabilities(masks, boxes, height, width))];
        }
    }

    /// <summary>Bitmasks of the first <paramref name="live"/> of <paramref name="count"/> masks, the live count given on the device.</summary>
    private sealed class Bits(string name, int count, int live, int m, int height, int width, PasteMethod method) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var masks = RandomTensors.Uniform(device, count + m, 0, 1, count, m, m);
            using var boxes = RandomTensors.OnDevice(Tensor.FromArray(RandomBoxes(count, count, height, width), count, 4), device);
            using var counted = RandomTensors.OnDevice(Tensor.FromArray(new long[] { live }, 1), device);
            using var bits = MaskPaste.PasteBits(masks, boxes, counted, height, width, method);
            using var written = bits.Slice(0, live);
            return [written.To(Device.Cpu)];
        }
    }
}
