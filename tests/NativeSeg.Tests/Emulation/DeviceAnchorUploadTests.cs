using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The device RPN uploads its anchors and level ids on the first batch of a shape only: a second batch of the same
/// shape makes the same proposals with none of those copies, a batch of another shape uploads its own.
/// </summary>
public class DeviceAnchorUploadTests
{
    private static readonly (int H, int W)[] Levels = [(4, 6), (2, 3)];

    [Fact]
    public void AnchorsAreUploadedOncePerBatchShape()
    {
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var generator = new DeviceProposalGenerator(MaskRcnnConfig.TorchvisionCoco());
        using var scope = TensorScope.Begin();
        var rng = new Random(5);
        var outputs = Levels.Select(l => (Values(rng, device, 2, 3, l.H, l.W), Values(rng, device, 2, 12, l.H, l.W))).ToList();
        int asked = 0;
        IReadOnlyList<float[]> Anchors()
        {
            asked++;
            return [.. Levels.Select(l => Boxes(rng, l.H * l.W * 3))];
        }
        (int H, int W)[] sizes = [(16, 24), (14, 20)];

        var before = runtime.Traffic.Counts;
        var first = generator.Generate(outputs, (16, 24), Anchors, sizes);
        var firstTraffic = runtime.Traffic.Counts - before;
        before = runtime.Traffic.Counts;
        var second = generator.Generate(outputs, (16, 24), Anchors, sizes);
        var secondTraffic = runtime.Traffic.Counts - before;

        Assert.Equal(1, asked);
        Assert.Equal(Levels.Length + 1, firstTraffic.HostToDevice - secondTraffic.HostToDevice);
        for (int n = 0; n < sizes.Length; n++)
        {
            Assert.Equal(first[n].Count.ToArray<long>(), second[n].Count.ToArray<long>());
            Assert.Equal(first[n].Boxes.ToArray<float>(), second[n].Boxes.ToArray<float>());
        }

        generator.Generate(outputs, (32, 24), Anchors, sizes);
        Assert.Equal(2, asked);
        Assert.Equal(2, generator.CachedShapeCount);
    }

    private static Tensor Values(Random rng, Device device, params int[] shape)
    {
        var values = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        using var host = Tensor.FromArray(values, shape);
        return host.To(device);
    }

    private static float[] Boxes(Random rng, int count)
    {
        var boxes = new float[count * 4];
        for (int i = 0; i < count; i++)
        {
            float x = (float)rng.NextDouble() * 16, y = (float)rng.NextDouble() * 12;
            (boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]) = (x, y, x + 2 + (float)rng.NextDouble() * 8, y + 2 + (float)rng.NextDouble() * 8);
        }
        return boxes;
    }
}
