using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;
using BcnetModel = NativeSeg.Models.Bcnet.Bcnet;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// Repeated BCNet inference, plain and explained, gives every pooled block back once each image has been segmented
/// (which made the Winograd transforms that a compiled model makes on first use).
/// </summary>
[Collection(PoolCollection.Name)]
public class BcnetMemoryTests
{
    private const int Inferences = 6;

    [Fact]
    public void SegmentAndExplainReturnThePoolToItsBaseline()
    {
        using var temp = new TempFolder();
        string path = temp.File("bcnet.safetensors");
        BcnetFixture.WriteWholeModel(path);
        var images = new[] { ImageFile.Read(FixturePaths.Fixture("exif_o1.jpg")), ImageFile.Read(FixturePaths.Fixture("palette.png")) };
        using var model = BcnetModel.Load(path, Device.Cpu);
        foreach (var image in images) model.Segment([image]);
        long baseline = Device.Cpu.Pool.BytesInUse;
        int instances = 0;
        for (int i = 0; i < Inferences; i++)
        {
            // Alternating image sizes and the two paths, so differently sized blocks go through the pool.
            instances += i % 2 == 0 ? model.Segment([images[i / 2 % 2]])[0].Count : model.Explain(images[i / 2 % 2]).Count;
            Assert.Equal(baseline, Device.Cpu.Pool.BytesInUse);
        }
        Assert.True(instances > 0, "no inference produced an instance, so the mask head and paste were never exercised");
    }
}
