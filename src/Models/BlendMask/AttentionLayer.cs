using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.BlendMask;

/// <summary>
/// BlendMask's top layer (<c>top_layer</c>, a 3×3 conv from the FCOS bbox tower to K·M·M attention channels),
/// evaluated only where detections were kept. Upstream convolves every location of every level and then picks
/// the ≤ 100 kept ones; a convolution's output at one location depends only on the 3×3 patch around it, so
/// gathering those patches and multiplying by the [K·M·M, C·9] weight gives the same values for a fraction of the
/// work (specs/blendmask.md §10: 784 × 2304 per detection instead of per location).
/// </summary>
public sealed class AttentionLayer : Module
{
    private const int Kernel = 3;

    private readonly Conv2dLayer _conv;

    public AttentionLayer(ParameterStore store, int channels, int attentionLength)
    {
        _conv = Child(new Conv2dLayer(store, "top_layer", ConvSpec.Same(channels, attentionLength, Kernel, bias: true)));
    }

    /// <summary>The attentions [D, K·M·M] at each detection's location.</summary>
    /// <param name="boxFeatures">Per level the bbox tower output [1, C, H, W] of one image.</param>
    /// <param name="levels">Per detection its level index into <paramref name="boxFeatures"/>.</param>
    /// <param name="locations">Per detection y·W + x on its level.</param>
    public Tensor Forward(IReadOnlyList<Tensor> boxFeatures, IReadOnlyList<int> levels, IReadOnlyList<int> locations)
    {
        using var scope = TensorScope.Begin();
        return scope.Keep(Forward(Patches(boxFeatures, levels, locations).To(_conv.Weight.Value.Device)));
    }

    /// <summary>The attentions [D, K·M·M] of the 3×3 patches [D, C·9] about each detection's location, laid out as <see cref="Patches"/> lays them.</summary>
    public Tensor Forward(Tensor patches) =>
        Functional.Linear(patches, _conv.Weight.Value.Reshape(_conv.OutChannels, -1), _conv.Bias!.Value, relu: false);

    /// <summary>[D, C·9] host rows, channel-major then kernel row then column as the conv weight flattens; zero outside the map as the conv pads.</summary>
    private static Tensor Patches(IReadOnlyList<Tensor> boxFeatures, IReadOnlyList<int> levels, IReadOnlyList<int> locations)
    {
        using var scope = TensorScope.Begin();
        int d = levels.Count, c = boxFeatures[0].Shape[1], width = c * Kernel * Kernel;
        var host = new Tensor?[boxFeatures.Count];
        var rows = new float[d * width];
        for (int i = 0; i < d; i++)
        {
            var map = host[levels[i]] ??= boxFeatures[levels[i]].To(Device.Cpu);
            int h = map.Shape[2], w = map.Shape[3], y = locations[i] / w, x = locations[i] % w;
            var values = map.AsSpan<float>();
            var row = rows.AsSpan(i * width, width);
            for (int ch = 0; ch < c; ch++)
                for (int ky = 0; ky < Kernel; ky++)
                {
                    int yy = y + ky - Kernel / 2;
                    if (yy < 0 || yy >= h) continue;
                    for (int kx = 0; kx < Kernel; kx++)
                    {
                        int xx = x + kx - Kernel / 2;
                        if (xx >= 0 && xx < w) row[(ch * Kernel + ky) * Kernel + kx] = values[(ch * h + yy) * w + xx];
                    }
                }
        }
        return scope.Keep(Tensor.FromArray(rows, d, width));
    }
}
