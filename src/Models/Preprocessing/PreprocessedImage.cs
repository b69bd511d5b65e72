using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// The network input [1, 3, PaddedHeight, PaddedWidth] (owned) and the sizes postprocessing needs: boxes are
/// clipped to the resized size and scaled back to the original one.
/// </summary>
public sealed class PreprocessedImage(Tensor input, int originalHeight, int originalWidth, int height, int width) : IDisposable
{
    public Tensor Input { get; } = input;

    public int OriginalHeight { get; } = originalHeight;

    public int OriginalWidth { get; } = originalWidth;

    /// <summary>Resized height before padding (detectron2's image_sizes, torchvision's image_sizes).</summary>
    public int Height { get; } = height;

    public int Width { get; } = width;

    public int PaddedHeight => Input.Shape[2];

    public int PaddedWidth => Input.Shape[3];

    /// <summary>The input on <paramref name="device"/>: itself when it is there already, else a copy (the current TensorScope's).</summary>
    public Tensor On(Device device) => ReferenceEquals(Input.Device, device) ? Input : Input.To(device);

    public void Dispose() => Input.Dispose();
}
