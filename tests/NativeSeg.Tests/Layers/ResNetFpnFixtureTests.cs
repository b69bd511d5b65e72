using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Parameters;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;

namespace NativeSeg.Tests.Layers;

/// <summary>
/// The R50-FPN backbone against torchvision 0.14 (tests/reference/make_backbone_fixtures.py), with the same
/// deterministic weights loaded under each checkpoint layout's names.
/// </summary>
public class ResNetFpnFixtureTests
{
    private const double Tolerance = 1e-4;

    /// <summary>Each case raw (frozen BatchNorms applied after the convs, as training runs) and compiled (folded, as inference runs).</summary>
    public static TheoryData<string, string, bool> Cases => new()
    {
        { "tv", "torchvision", true },
        { "tv", "torchvision", false },
        { "tv_odd", "torchvision", true },
        { "tv", "detectron2-v1.5", true },
        { "msra", "maskrcnn-benchmark", true },
        { "msra", "maskrcnn-benchmark", false },
        { "msra", "detectron2-msra-eps0", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchvision(string fixture, string layout, bool compiled)
    {
        var (weights, config) = layout switch
        {
            "torchvision" => (BackboneWeights.Torchvision, BackboneConfig.Torchvision()),
            // torchvision's weights through detectron2's names: stride stays in the 3×3.
            "detectron2-v1.5" => (BackboneWeights.Detectron2(), BackboneConfig.Detectron2() with { StrideInOneByOne = false }),
            "maskrcnn-benchmark" => (BackboneWeights.MaskRcnnBenchmark(), BackboneConfig.MaskRcnnBenchmark()),
            _ => (BackboneWeights.Detectron2(), BackboneConfig.Detectron2() with { NormEps = 0 }),
        };
        var store = new ParameterStore(weights, Device.Cpu);
        using var backbone = ResNetFpn.Load(store, config);
        Assert.Empty(store.Unused(name => name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)));
        if (compiled) backbone.CompileForInference();

        using var file = SafetensorsFile.Open(FixturePaths.Fixture("backbone.safetensors"));
        using var x = file.Load(fixture + ".x");
        using var pyramid = backbone.Forward(x);
        Assert.Equal(6, pyramid.MaxLevel);
        AssertLevel(file, fixture + ".p2", pyramid[2], 8);
        AssertLevel(file, fixture + ".p3", pyramid[3], 2);
        for (int level = 4; level <= 6; level++)
        {
            using var expected = file.Load($"{fixture}.p{level}");
            ConvAssert.Close(expected, pyramid[level], Tolerance);
        }
    }

    [Fact]
    public void StrideInTheWrongConvChangesTheOutput()
    {
        // Guards the test above: the two stride placements must be distinguishable on these weights.
        var store = new ParameterStore(BackboneWeights.Torchvision, Device.Cpu);
        using var backbone = ResNetFpn.Load(store, BackboneConfig.Torchvision() with { StrideInOneByOne = true });
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("backbone.safetensors"));
        using var x = file.Load("tv.x");
        using var pyramid = backbone.Forward(x);
        using var expected = file.Load("tv.p4");
        var result = KernelCheckRunner.Compare("p4", [expected], [pyramid[4]], Tolerance);
        Assert.False(result.Passed);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        var weights = BackboneWeights.Detectron2().Where(kv => kv.Key != "backbone.bottom_up.res4.5.conv2.norm.running_var")
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var store = new ParameterStore(weights, Device.Cpu);
        var error = Assert.Throws<KeyNotFoundException>(() => ResNetFpn.Load(store, BackboneConfig.Detectron2()));
        Assert.Contains("backbone.bottom_up.res4.5.conv2.norm.running_var", error.Message);
    }

    /// <summary>The stored channel subsample exactly, and every channel through its spatial sum.</summary>
    private static void AssertLevel(SafetensorsFile file, string name, Tensor actual, int channelStep)
    {
        using var expectedSubsample = file.Load($"{name}_every{channelStep}");
        using var expectedSums = file.Load(name + "_sums");
        using var subsample = EveryNthChannel(actual, channelStep);
        using var sums = ChannelSums(actual);
        ConvAssert.Close(expectedSubsample, subsample, Tolerance);
        ConvAssert.Close(expectedSums, sums, Tolerance);
    }

    private static Tensor EveryNthChannel(Tensor x, int step)
    {
        int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3], kept = (c + step - 1) / step;
        var src = x.AsSpan<float>();
        var result = new float[n * kept * hw];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < kept; k++)
                src.Slice((i * c + k * step) * hw, hw).CopyTo(result.AsSpan((i * kept + k) * hw, hw));
        }
        return Tensor.FromArray(result, n, kept, x.Shape[2], x.Shape[3]);
    }

    private static Tensor ChannelSums(Tensor x)
    {
        int planes = x.Shape[0] * x.Shape[1], hw = x.Shape[2] * x.Shape[3];
        var src = x.AsSpan<float>();
        var sums = new float[planes];
        for (int p = 0; p < planes; p++)
        {
            double s = 0;
            foreach (float v in src.Slice(p * hw, hw)) s += v;
            sums[p] = (float)s;
        }
        return Tensor.FromArray(sums, x.Shape[0], x.Shape[1]);
    }
}
