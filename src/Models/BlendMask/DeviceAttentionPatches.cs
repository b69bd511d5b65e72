using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Transpose;
using NativeSeg.Models.Detection;

namespace NativeSeg.Models.BlendMask;

/// <summary>
/// The 3×3 bbox-tower patches <see cref="AttentionLayer"/> multiplies, gathered on the device for detection slots
/// whose locations stay there: every level's [C, H·W] map turned to rows of all levels' locations, each slot's nine
/// neighbour rows looked up in a table that follows from the map sizes alone (uploaded once per set of sizes), then
/// those rows gathered and laid out channel-major as the conv weight flattens.
/// </summary>
internal sealed class DeviceAttentionPatches : IDisposable
{
    private const int Kernel = 3, Taps = Kernel * Kernel;
    // As the FCOS postprocess's centres: one entry for images of one size, a handful for a folder of COCO images.
    private const int CachedShapes = 8;

    private readonly DeviceShapeCache<Neighbours> _shapes = new(CachedShapes);

    /// <summary>[D, C·9] patches of <paramref name="boxFeatures"/> (per level [1, C, H, W]) about each slot's location.</summary>
    /// <param name="locations">int64 [D]: rows of all levels' maps one after another (P3 first), as <see cref="Fcos.DeviceFcosDetections.Locations"/>.</param>
    public Tensor Patches(IReadOnlyList<Tensor> boxFeatures, Tensor locations)
    {
        using var scope = TensorScope.Begin();
        int channels = boxFeatures[0].Shape[1], slots = locations.Shape[0];
        var sizes = boxFeatures.Select(f => (Height: f.Shape[2], Width: f.Shape[3])).ToArray();
        var neighbours = _shapes.Get(string.Join(",", sizes.Select(s => $"{s.Height}x{s.Width}")), () => Neighbours.Upload(sizes, locations.Device));
        var table = Concat.Forward([.. boxFeatures.Select(f => Transpose.LastTwo(f.Reshape(channels, f.Shape[2] * f.Shape[3])))], 0);
        var taps = Gather.Rows(neighbours.Table, locations).Reshape(slots * Taps);
        // A tap outside its map is −1, which the gather reads as a zero row: the conv's zero padding.
        var rows = Gather.Rows(table, taps).Reshape(slots, Taps, channels);
        return scope.Keep(Transpose.LastTwo(rows).Reshape(slots, channels * Taps));
    }

    public void Dispose() => _shapes.Dispose();

    /// <summary>Per location of every level, int64 [Σ H·W, 9]: the rows of its 3×3 neighbours (row-major), −1 off the map.</summary>
    private sealed record Neighbours(Tensor Table) : IDisposable
    {
        public static Neighbours Upload(IReadOnlyList<(int Height, int Width)> sizes, Device device)
        {
            int total = sizes.Sum(s => s.Height * s.Width);
            var table = new long[total * Taps];
            int offset = 0;
            foreach (var (height, width) in sizes)
            {
                for (int p = 0; p < height * width; p++)
                {
                    int y = p / width, x = p % width;
                    for (int t = 0; t < Taps; t++)
                    {
                        int yy = y + t / Kernel - Kernel / 2, xx = x + t % Kernel - Kernel / 2;
                        bool inside = yy >= 0 && yy < height && xx >= 0 && xx < width;
                        table[(offset + p) * Taps + t] = inside ? offset + yy * width + xx : -1;
                    }
                }
                offset += height * width;
            }
            return new Neighbours(DeviceConstant.Upload(Tensor.FromArray(table, total, Taps), device));
        }

        public void Dispose() => Table.Dispose();
    }
}
