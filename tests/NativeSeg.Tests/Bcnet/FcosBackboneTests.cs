using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Fcos;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;
using NativeSeg.Tests.Layers;
using NativeSeg.Tests.Models;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// BCNet's res3..res5 FPN: its top-down path never sees res2, so P3..P5 must equal those of the P2..P6 FPN with
/// the same weights (the backbone fixture's torchvision outputs); fpn_lateral2/fpn_output2 stay unused.
/// </summary>
public class FcosBackboneTests
{
    [Fact]
    public void P3ToP5MatchTheFullFpnAndTheTopBlockAddsP6P7()
    {
        var weights = new Dictionary<string, Tensor>(BackboneWeights.Detectron2());
        var topBlock = new[] { "p6", "p7" }.SelectMany(p => new[]
        {
            ($"backbone.top_block.{p}.weight", Tensor.FromArray(HashedWeights.Uniform($"top_block.{p}.weight", 256 * 256 * 9, 0.03), 256, 256, 3, 3)),
            ($"backbone.top_block.{p}.bias", Tensor.FromArray(HashedWeights.Uniform($"top_block.{p}.bias", 256, 0.1), 256)),
        }).ToList();
        foreach (var (name, t) in topBlock) weights[name] = t;
        try
        {
            var store = new ParameterStore(weights, Device.Cpu);
            using var backbone = FcosBackbone.Load(store, BackboneConfig.Detectron2() with { NormEps = 0 });
            Assert.Equal(["backbone.fpn_lateral2.bias", "backbone.fpn_lateral2.weight", "backbone.fpn_output2.bias", "backbone.fpn_output2.weight"],
                store.Unused());

            using var file = SafetensorsFile.Open(FixturePaths.Fixture("backbone.safetensors"));
            using var x = file.Load("msra.x");
            var levels = backbone.Forward(x);
            try
            {
                Assert.Equal(5, levels.Length);
                // The fixture keeps P3 as every other channel to stay small.
                using (var expected = file.Load("msra.p3_every2"))
                using (var everyOther = EveryOtherChannel(levels[0]))
                    ConvAssert.Close(expected, everyOther, 1e-4);
                for (int level = 4; level <= 5; level++)
                {
                    using var expected = file.Load($"msra.p{level}");
                    ConvAssert.Close(expected, levels[level - 3], 1e-4);
                }
                // Stride-2 3×3 convs with padding 1: each level above P5 halves the size, rounding up.
                for (int l = 3; l < 5; l++)
                {
                    Assert.Equal((levels[l - 1].Shape[2] + 1) / 2, levels[l].Shape[2]);
                    Assert.Equal((levels[l - 1].Shape[3] + 1) / 2, levels[l].Shape[3]);
                }
            }
            finally
            {
                foreach (var l in levels) l.Dispose();
            }
        }
        finally
        {
            foreach (var (_, t) in topBlock) t.Dispose();
        }
    }

    private static Tensor EveryOtherChannel(Tensor x)
    {
        int n = x.Shape[0], c = x.Shape[1], hw = x.Shape[2] * x.Shape[3], kept = (c + 1) / 2;
        var all = x.ToArray<float>();
        var result = new float[n * kept * hw];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < kept; k++)
                all.AsSpan((i * c + 2 * k) * hw, hw).CopyTo(result.AsSpan((i * kept + k) * hw));
        return Tensor.FromArray(result, n, kept, x.Shape[2], x.Shape[3]);
    }
}
