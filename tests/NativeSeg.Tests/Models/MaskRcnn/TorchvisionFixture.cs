using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// tests/reference/make_maskrcnn_fixtures.py's torchvision heads rebuilt in C#: the same hashed weights and
/// FPN features, loaded once for all tests of the class.
/// </summary>
public sealed class TorchvisionFixture : IDisposable
{
    public TorchvisionFixture()
    {
        File = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision.safetensors"));
        var meta = File.Metadata;
        Padded = Pair(meta["padded"]);
        Image = Pair(meta["image"]);
        var original = Pair(meta["original"]);
        Geometry = new ImageGeometry(Image.H, Image.W, original.H, original.W);
        var weights = HashedWeights.LoadAll(meta, "rpn.", "roi_heads.");
        try
        {
            var store = new ParameterStore(weights, Device.Cpu);
            Heads = new MaskRcnnHeads(store, MaskRcnnConfig.TorchvisionCoco());
            Assert.Empty(store.Unused());
        }
        finally
        {
            foreach (var w in weights.Values) w.Dispose();
        }
        var maps = new[] { "p2", "p3", "p4", "p5" }.Select(n => HashedWeights.Load(meta, "feature." + n)).ToList();
        maps.Add(MaxPool.Forward2d(maps[3], 1, 2));
        Features = maps;
    }

    public SafetensorsFile File { get; }

    public MaskRcnnHeads Heads { get; }

    /// <summary>P2..P6.</summary>
    public IReadOnlyList<Tensor> Features { get; }

    public (int H, int W) Padded { get; }

    public (int H, int W) Image { get; }

    public ImageGeometry Geometry { get; }

    public float[] Floats(string name)
    {
        using var t = File.Load(name);
        return t.AsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        Heads.Dispose();
        foreach (var f in Features) f.Dispose();
        File.Dispose();
    }

    private static (int H, int W) Pair(string text)
    {
        var parts = text.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return (parts[0], parts[1]);
    }
}
