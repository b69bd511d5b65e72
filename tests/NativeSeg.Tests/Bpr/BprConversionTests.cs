using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.Registry;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Bpr;

/// <summary>`convert` on BPR's released layout: an mmseg state_dict (873 tensors for hr18s) is recognised without --arch.</summary>
public class BprConversionTests
{
    [Fact]
    public void AnHr18sStateDictIsRecognisedAsBprHr18s()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_hrnet.safetensors"));
        var weights = BprFixture.Weights(fixture.Metadata);
        try
        {
            // The released files also hold every BatchNorm's num_batches_tracked, a 0-d int64.
            foreach (var key in Architectures.Find("bpr-hr18s").ExpectedKeys.Keys.Where(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)))
                weights[key] = Tensor.FromArray(new long[] { 160000 });
            Assert.Equal("bpr-hr18s", WeightsConverter.Recognise("hrnet18s_coco-c172955f.pth", weights, Architectures.All).Name);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
