using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// A whole BCNet (FCOS R50-FPN) loaded from a converted .safetensors file: detectron2 preprocessing, the ResNet with
/// its res3–res5 FPN, <see cref="BcnetHeads"/>, then detectron2's box clipping and paste with COCO category ids.
/// </summary>
public sealed class Bcnet : IInstanceSegmenter
{
    private const int FirstLevel = 3;

    private readonly ResNet _body;
    private readonly FpnNeck _fpn;
    private readonly BcnetHeads _heads;
    private readonly InstancePostprocessor _postprocessor;
    private readonly Device _device;

    private Bcnet(ResNet body, FpnNeck fpn, BcnetHeads heads, Device device)
    {
        _body = body;
        _fpn = fpn;
        _heads = heads;
        _device = device;
        // BCNet is detectron2 code: contiguous labels 0–79 map to COCO ids and masks paste the detectron2 way.
        _postprocessor = new InstancePostprocessor(MaskRcnnConfig.Detectron2Coco(), device);
    }

    /// <summary>BCNet's COCO configs test at detectron2's default sizes (shorter side 800, longer at most 1333).</summary>
    public static PreprocessConfig Preprocess { get; } = PreprocessConfig.Detectron2();

    /// <summary>The loader <see cref="InstanceSegmenters"/> tries: null unless the file declares <see cref="BcnetArchitecture.FcosR50Fpn"/>.</summary>
    public static IInstanceSegmenter? TryOpen(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var file = SafetensorsFile.Open(path);
            if (!file.Metadata.TryGetValue("architecture", out var name) || name != BcnetArchitecture.FcosR50Fpn) return null;
        }
        catch (Engine.Formats.FileFormatException)
        {
            return null;
        }
        return Load(path, DeviceSelector.Select("auto", Console.Error));
    }

    public static Bcnet Load(string path, Device device)
    {
        using var file = SafetensorsFile.Open(path);
        using var weights = Float32Weights.Load(file);
        // The FPN width is the file's: converted checkpoints have 256, small test models fewer.
        int channels = weights.Tensors.TryGetValue("backbone.fpn_output3.weight", out var output3) ? output3.Shape[0] : 256;
        return Load(new ParameterStore(weights.Tensors, device), device, path, channels);
    }

    /// <param name="what">Names the weights' source in errors.</param>
    /// <param name="channels">The FPN and head width.</param>
    public static Bcnet Load(ParameterStore store, Device device, string what, int channels)
    {
        var config = BackboneConfig.Detectron2() with { FpnChannels = channels };
        var body = ResNet.Load(store, config);
        FpnNeck? fpn = null;
        BcnetHeads? heads = null;
        try
        {
            fpn = FpnNeck.Load(store, config, config.StageChannels.Skip(FirstLevel - 2).ToList(), FirstLevel);
            heads = new BcnetHeads(store, new FcosConfig(Channels: channels));
            var unused = store.Unused(n => n.EndsWith("num_batches_tracked", StringComparison.Ordinal));
            if (unused.Count > 0)
                throw new ArgumentException($"{what}: {unused.Count} tensors are not part of {BcnetArchitecture.FcosR50Fpn}, e.g. {string.Join(", ", unused.Take(5))}");
            return new Bcnet(body, fpn, heads, device);
        }
        catch
        {
            heads?.Dispose();
            fpn?.Dispose();
            body.Dispose();
            throw;
        }
    }

    /// <summary>P3–P5 of a preprocessed image; the caller owns them.</summary>
    public Tensor[] Features(PreprocessedImage input)
    {
        using var images = input.Input.To(_device);
        var stages = _body.Forward(images);
        try
        {
            // res2 feeds nothing: BCNet's FPN starts at res3.
            return _fpn.ForwardLevels(stages[(FirstLevel - 2)..]);
        }
        finally
        {
            foreach (var s in stages) s.Dispose();
        }
    }

    /// <summary>Detections and occludee masks of a preprocessed image, in its resized coordinates.</summary>
    public MaskDetections Detect(PreprocessedImage input)
    {
        var levels = Features(input);
        try
        {
            return _heads.Forward(levels)[0];
        }
        finally
        {
            foreach (var l in levels) l.Dispose();
        }
    }

    public IReadOnlyList<MaskRcnnInstance> Segment(Image image)
    {
        using var input = ImagePreprocessor.Run(image, Preprocess, Device.Cpu);
        var detections = Detect(input);
        return _postprocessor.Run(detections, new ImageGeometry(input.Height, input.Width, input.OriginalHeight, input.OriginalWidth));
    }

    public IReadOnlyList<InstancePrediction> Predict(Image image) =>
        Segment(image).Select(i => new InstancePrediction(i.CategoryId, i.MaskScore, i.Mask, new CocoBox(i.X1, i.Y1, i.X2 - i.X1, i.Y2 - i.Y1))).ToList();

    public void Dispose()
    {
        _body.Dispose();
        _fpn.Dispose();
        _heads.Dispose();
    }
}
