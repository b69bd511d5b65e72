using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Inference;

namespace NativeSeg.Api;

/// <summary>
/// A converted model (`nativeseg convert`) loaded on a device, ready to segment images; the C API's
/// <c>ns_model</c>. One instance may be used by several threads at once: their calls run one after another,
/// because a model's device memory pool and workspaces are shared by its calls.
/// </summary>
public sealed class Segmenter : IDisposable
{
    private readonly IInstanceSegmenter _model;
    private readonly Lock _gate = new();
    private bool _disposed;

    private Segmenter(IInstanceSegmenter model, Device device)
    {
        _model = model;
        Device = device.ToString();
    }

    /// <summary>The architecture the model file declares, e.g. "maskrcnn_resnet50_fpn_torchvision".</summary>
    public string Architecture => _model.Architecture;

    /// <summary>The device the model runs on, e.g. "cpu" or "cuda:0".</summary>
    public string Device { get; }

    /// <param name="modelPath">A .safetensors file written by `nativeseg convert`.</param>
    /// <param name="device">"cpu", "cuda", "cuda:N" or "auto" (CUDA when usable, else the CPU).</param>
    /// <param name="scoreThreshold">Replaces the box score threshold of the model's configuration (its released config's: 0.05 for Mask R-CNN, 0.03 on FCOS candidates for BCNet).</param>
    /// <exception cref="ArgumentException">A device name or threshold that is not valid.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="modelPath"/>.</exception>
    /// <exception cref="NotSupportedException">The file is not a model any runner takes.</exception>
    public static Segmenter Load(string modelPath, string device = "auto", float? scoreThreshold = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(device);
        if (scoreThreshold is { } t && !(t >= 0 && t <= 1))
            throw new ArgumentException($"score threshold must be within [0, 1], got {t}");
        var selected = DeviceSelector.Select(device, TextWriter.Null);
        return new Segmenter(InstanceSegmenters.Open(modelPath, new SegmenterOptions(selected, scoreThreshold)), selected);
    }

    /// <summary>Segments a PNG or JPEG file (EXIF orientation applied, as detectron2 reads images).</summary>
    /// <param name="imagePath">The image file.</param>
    /// <param name="minScore">Drops instances scoring at or below it, after the model's own threshold.</param>
    public Segmentation Segment(string imagePath, float minScore = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        CheckMinScore(minScore);
        return Run(ImageFile.Read(imagePath), minScore);
    }

    /// <summary>Segments packed 8-bit RGB pixels (copied; the caller keeps the buffer).</summary>
    /// <param name="rgb">Rows of <paramref name="width"/> RGB triplets, top row first.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="rowStride">Bytes from the start of one row to the next, at least 3 x <paramref name="width"/>.</param>
    /// <param name="minScore">Drops instances scoring at or below it, after the model's own threshold.</param>
    public Segmentation Segment(ReadOnlySpan<byte> rgb, int width, int height, int rowStride, float minScore = 0)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} must be positive");
        var limits = ImageLimits.Default;
        if (width > limits.MaxSide || height > limits.MaxSide || (long)width * height > limits.MaxPixels)
            throw new ArgumentException($"image size {width}x{height} exceeds the limits of {limits.MaxSide} pixels per side and {limits.MaxPixels} pixels");
        if (rowStride < 3L * width) throw new ArgumentException($"row stride {rowStride} is below 3 x width ({3L * width} bytes)");
        long needed = (long)rowStride * (height - 1) + 3L * width;
        if (rgb.Length < needed) throw new ArgumentException($"{rgb.Length} bytes hold no {width}x{height} image with row stride {rowStride} ({needed} bytes needed)");
        CheckMinScore(minScore);
        var pixels = new byte[3L * width * height];
        for (int y = 0; y < height; y++) rgb.Slice(y * rowStride, 3 * width).CopyTo(pixels.AsSpan(y * 3 * width, 3 * width));
        return Run(new Image(width, height, 3, pixels), minScore);
    }

    private static void CheckMinScore(float minScore)
    {
        if (!(minScore >= 0 && minScore <= 1)) throw new ArgumentException($"score threshold must be within [0, 1], got {minScore}");
    }

    private Segmentation Run(Image image, float minScore)
    {
        IReadOnlyList<SegmentedInstance> found;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            found = _model.Segment([image])[0];
        }
        return new Segmentation(image.Width, image.Height, found.Where(i => i.MaskScore > minScore)
            .Select(i => new Instance(i.X1, i.Y1, i.X2, i.Y2, i.MaskScore, i.CategoryId, i.Mask)).ToArray());
    }

    /// <summary>Frees the model's weights and device memory; results it made stay valid.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _model.Dispose();
        }
    }
}
