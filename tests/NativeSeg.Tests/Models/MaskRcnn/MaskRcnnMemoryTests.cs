using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Tests.Formats;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Repeated inference gives every pooled block back: bytes in use return to the value after one inference of each
/// batch shape, which made the Winograd transforms that a compiled model makes on first use.
/// </summary>
[Collection(PoolCollection.Name)]
public class MaskRcnnMemoryTests
{
    private const int Inferences = 25;

    [Fact]
    public void RepeatedInferenceReturnsThePoolToItsBaseline()
    {
        using var temp = new TempFolder();
        string path = temp.File("model.safetensors");
        TinyMaskRcnn.WriteTorchvision(path);
        var images = new[] { ImageFile.Read(FixturePaths.Fixture("exif_o1.jpg")), ImageFile.Read(FixturePaths.Fixture("palette.png")) };
        using var model = MaskRcnnModel.Load(path, Device.Cpu);
        model.Segment([images[0]]);
        model.Segment([images[1]]);
        model.Segment(images);
        long baseline = Device.Cpu.Pool.BytesInUse;
        int instances = 0;
        for (int i = 0; i < Inferences; i++)
        {
            // Alternating sizes and batch shapes, so differently sized blocks go through the pool.
            var results = i % 3 == 2 ? model.Segment(images) : model.Segment([images[i % 2]]);
            instances += results.Sum(r => r.Count);
            Assert.Equal(baseline, Device.Cpu.Pool.BytesInUse);
        }
        Assert.True(instances > 0, "no inference produced an instance, so the heads and paste were never exercised");
    }
}
