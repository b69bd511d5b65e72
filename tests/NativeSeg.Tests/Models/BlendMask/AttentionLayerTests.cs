using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.BlendMask;

namespace NativeSeg.Tests.Models.BlendMask;

/// <summary>The top layer evaluated at chosen locations must equal upstream's dense 3×3 conv read there.</summary>
public class AttentionLayerTests
{
    [Fact]
    public void AttentionsAtLocationsEqualTheDenseConvolution()
    {
        const int channels = 6, length = 20;
        int[][] sizes = [[7, 9], [4, 5]];
        var levels = sizes.Select((s, i) => RandomTensors.Uniform(Device.Cpu, 10 + i, -1, 1, 1, channels, s[0], s[1])).ToList();
        using var weight = RandomTensors.Uniform(Device.Cpu, 20, -0.5f, 0.5f, length, channels, 3, 3);
        using var bias = RandomTensors.Uniform(Device.Cpu, 21, -0.5f, 0.5f, length);
        // Corners, edges and the inside of both levels, where the conv's zero padding matters or not.
        int[] level = [0, 0, 0, 0, 1, 1, 1];
        int[] location = [0, 8, 7 * 9 - 1, 3 * 9 + 4, 0, 4 * 5 - 1, 2 * 5 + 2];
        try
        {
            using var layer = new AttentionLayer(new ParameterStore(new Dictionary<string, Tensor> { ["top_layer.weight"] = weight, ["top_layer.bias"] = bias }, Device.Cpu), channels, length);
            using var sparse = layer.Forward(levels, level, location);
            var got = sparse.AsSpan<float>().ToArray();
            var dense = levels.Select(x => Conv2d.Forward(x, weight, bias, Conv2dParams.Default with { Padding = 1 }).ToArray<float>()).ToList();
            for (int d = 0; d < level.Length; d++)
            {
                int hw = sizes[level[d]][0] * sizes[level[d]][1];
                for (int c = 0; c < length; c++)
                {
                    float want = dense[level[d]][c * hw + location[d]];
                    Assert.True(Math.Abs(got[d * length + c] - want) <= 1e-5f * (1 + Math.Abs(want)),
                        $"detection {d} channel {c}: {got[d * length + c]} against the dense conv's {want}");
                }
            }
        }
        finally
        {
            foreach (var x in levels) x.Dispose();
        }
    }
}
