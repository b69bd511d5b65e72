using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Parameters;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;

namespace NativeSeg.Tests.Layers;

/// <summary>
/// The basic-block ResNet-18 with a 64-channel FPN against torchvision 0.14
/// (tests/reference/make_resnet18_fixtures.py), the backbone of the default model.
/// </summary>
public class ResNet18FpnFixtureTests
{
    private const int FpnChannels = 64;

    [Fact]
    public void MatchesTorchvision()
    {
        var store = new ParameterStore(BackboneWeights.TorchvisionResNet18(FpnChannels), Device.Cpu);
        using var backbone = ResNetFpn.Load(store, BackboneConfig.Torchvision(depth: 18) with { FpnChannels = FpnChannels });
        Assert.Empty(store.Unused(name => name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)));

        using var file = SafetensorsFile.Open(FixturePaths.Fixture("backbone_r18.safetensors"));
        using var x = file.Load("x");
        using var pyramid = backbone.Forward(x);
        Assert.Equal(6, pyramid.MaxLevel);
        for (int level = 2; level <= 6; level++)
        {
            using var expected = file.Load($"p{level}");
            ConvAssert.Close(expected, pyramid[level], 1e-4);
        }
    }

    [Fact]
    public void Layer1HasNoShortcutToLoad()
    {
        // torchvision's resnet18 keeps 64 channels through layer1, so a projection there would be a missing key.
        var weights = BackboneWeights.TorchvisionResNet18(FpnChannels).Where(kv => kv.Key != "backbone.body.layer2.0.downsample.0.weight")
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var store = new ParameterStore(weights, Device.Cpu);
        var error = Assert.Throws<KeyNotFoundException>(() =>
            ResNetFpn.Load(store, BackboneConfig.Torchvision(depth: 18) with { FpnChannels = FpnChannels }));
        Assert.Contains("backbone.body.layer2.0.downsample.0.weight", error.Message);
    }
}
