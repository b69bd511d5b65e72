using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.Bpr;

/// <summary>
/// A converted BPR model (<c>nativeseg convert</c> of a released mmseg checkpoint: bpr-hr18s or bpr-hr48) that refines
/// the instance masks of an image given as COCO RLE. Masks that are empty or cover the whole image have no boundary
/// to refine and pass through as they are (upstream's zero padding would treat the image border of a full mask as
/// its boundary).
/// </summary>
public sealed class BprModel : IDisposable
{
    private BprModel(BprNetwork network, Device device)
    {
        Device = device;
        Refiner = new BoundaryRefiner(network);
    }

    public Device Device { get; }

    public BoundaryRefiner Refiner { get; }

    public string Architecture => Refiner.Network.Config.Architecture;

    /// <summary>Whether a .safetensors file declares a BPR architecture (false for any other model).</summary>
    public static bool Holds(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Metadata.TryGetValue("architecture", out var name) && BprConfig.All.Any(c => c.Architecture == name);
    }

    /// <summary>The architecture a .safetensors file says it holds, or a clear error when it is no BPR model.</summary>
    public static BprConfig Inspect(string path)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("architecture", out var name))
            throw new NotSupportedException($"model {path} has no 'architecture' in its metadata; convert checkpoints with `nativeseg convert`");
        if (BprConfig.All.FirstOrDefault(c => c.Architecture == name) is not { } config)
            throw new NotSupportedException($"model {path} holds a '{name}' model, not a BPR refiner ({string.Join(", ", BprConfig.All.Select(c => c.Architecture))})");
        return config;
    }

    public static BprModel Load(string path, Device device)
    {
        var config = Inspect(path);
        using var file = SafetensorsFile.Open(path);
        using var weights = Float32Weights.Load(file);
        using var store = weights.IntoStore(device);
        var network = BprNetwork.LoadForInference(store, config);
        return new BprModel(network, device);
    }

    /// <summary>
    /// The refined masks of <paramref name="image"/> (RGB), one per coarse mask and in the same order, and how many
    /// patches the network refined. Every mask must have the image's size.
    /// </summary>
    public (IReadOnlyList<Rle> Masks, int Patches) Refine(Image image, IReadOnlyList<Rle> masks, StageClock? clock = null)
    {
        if (image.Channels != 3) throw new ArgumentException($"BPR refines RGB images; this one has {image.Channels} channels");
        int h = image.Height, w = image.Width;
        for (int i = 0; i < masks.Count; i++)
        {
            if (masks[i].Height != h || masks[i].Width != w)
                throw new ArgumentException($"mask {i} is {masks[i].Width}x{masks[i].Height}, the image {w}x{h}");
        }
        var refined = masks.ToArray();
        var todo = Enumerable.Range(0, masks.Count).Where(i => masks[i].Area > 0 && masks[i].Area < (long)h * w).ToList();
        if (todo.Count == 0) return (refined, 0);
        using var scope = TensorScope.Begin();
        var stacked = new byte[(long)todo.Count * h * w];
        for (int k = 0; k < todo.Count; k++) masks[todo[k]].ToRowMajor().CopyTo(stacked.AsSpan(k * h * w));
        var hostMasks = Tensor.FromArray(stacked, todo.Count, h, w);
        var hostImage = image.ToTensor();
        var deviceMasks = Device.IsCpu ? hostMasks : hostMasks.To(Device);
        var deviceImage = Device.IsCpu ? hostImage : hostImage.To(Device);
        var (result, patches) = Refiner.Refine(deviceImage, deviceMasks, clock);
        var bits = (Device.IsCpu ? result : result.To(Device.Cpu)).AsSpan<byte>().ToArray();
        for (int k = 0; k < todo.Count; k++) refined[todo[k]] = Rle.FromRowMajor(bits.AsSpan(k * h * w, h * w), h, w);
        clock?.Lap(BoundaryRefiner.ReassembleStage);
        return (refined, patches);
    }

    public void Dispose() => Refiner.Network.Dispose();
}
