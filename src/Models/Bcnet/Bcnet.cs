using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Models.Detection;
using NativeSeg.Layers;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// A whole BCNet FCOS model (R50 or R101 FPN) loaded from a converted .safetensors file: detectron2 preprocessing
/// at its config's test size, the ResNet with its res3–res5 FPN, <see cref="BcnetHeads"/>, then detectron2's box
/// clipping and paste with COCO category ids.
/// </summary>
public sealed class Bcnet : Module, IInstanceSegmenter, IOcclusionExplainer
{
    private const int FirstLevel = 3;

    private readonly ResNet _body;
    private readonly FpnNeck _fpn;
    private readonly BcnetHeads _heads;
    private readonly InstancePostprocessor _postprocessor;
    // Set on a device for the FCOS settings whose every stage has device kernels; others run their postprocess on the host.
    private readonly BcnetDevicePipeline? _devicePipeline;
    private readonly Device _device;
    private readonly PreprocessConfig _preprocess;
    private readonly PillowTaps _resizeTaps;

    private Bcnet(BcnetArchitecture architecture, ParameterStore store, BackboneConfig backbone, FcosConfig config, PreprocessConfig preprocess)
    {
        Variant = architecture;
        _device = store.Device;
        _preprocess = preprocess;
        _resizeTaps = new PillowTaps(_device);
        _body = Child(new ResNet(store, backbone));
        _fpn = Child(new FpnNeck(store, backbone, backbone.StageChannels.Skip(FirstLevel - 2).ToList(), FirstLevel));
        _heads = Child(new BcnetHeads(store, config));
        // BCNet is detectron2 code: contiguous labels 0–79 map to COCO ids and masks paste the detectron2 way.
        var outputs = DetectorConfig.Detectron2CocoOutputs();
        _postprocessor = new InstancePostprocessor(outputs, _device);
        if (!_device.IsCpu && BcnetDevicePipeline.Supports(config)) _devicePipeline = new BcnetDevicePipeline(_heads, config, _postprocessor, outputs);
    }

    public BcnetArchitecture Variant { get; }

    public string Architecture => Variant.Name;

    public IReadOnlyDictionary<long, string>? CategoryNames => null;

    public bool CanExplain => true;

    /// <param name="scoreThreshold">Replaces FCOS's candidate threshold on sigmoid(cls) (the config's 0.03).</param>
    public static Bcnet Load(string path, Device device, float? scoreThreshold = null, InferencePrecision precision = InferencePrecision.Fp32) =>
        ConvertedModel.Open(path, BcnetArchitecture.Named, (architecture, _, weights) =>
        {
            // The FPN width is the file's: converted checkpoints have 256, small test models fewer.
            int channels = weights.Tensors.TryGetValue("backbone.fpn_output3.weight", out var output3) ? output3.Shape[0] : 256;
            var config = new FcosConfig(Channels: channels);
            if (scoreThreshold is { } s) config = config with { InferenceThreshold = s };
            using var store = weights.IntoStore(device);
            return Load(store, device, path, channels, architecture, config, precision: precision);
        });

    /// <summary>The model compiled for inference (the non-local blocks' BatchNorms and FCOS's scales folded).</summary>
    /// <param name="what">Names the weights' source in errors.</param>
    /// <param name="channels">The FPN and head width.</param>
    /// <param name="architecture">Default: the R50 model.</param>
    /// <param name="config">Default: BCNet's FCOS settings at <paramref name="channels"/>.</param>
    /// <param name="preprocess">Default: the architecture's test size (<see cref="BcnetArchitecture.Preprocess"/>).</param>
    public static Bcnet Load(ParameterStore store, Device device, string what, int channels, BcnetArchitecture? architecture = null, FcosConfig? config = null,
        PreprocessConfig? preprocess = null, InferencePrecision precision = InferencePrecision.Fp32)
    {
        architecture ??= BcnetArchitecture.R50;
        var backbone = BackboneConfig.Detectron2() with { FpnChannels = channels, Depth = architecture.Depth };
        var model = ConvertedModel.Checked(() => new Bcnet(architecture, store, backbone, config ?? new FcosConfig(Channels: channels), preprocess ?? architecture.Preprocess),
            store, n => n.EndsWith("num_batches_tracked", StringComparison.Ordinal), what, architecture.Name);
        return ConvertedModel.Compiled(model, precision);
    }

    /// <summary>P3–P5 of a preprocessed image; the caller owns them.</summary>
    public Tensor[] Features(PreprocessedImage input)
    {
        using var scope = TensorScope.Begin();
        // res2 feeds nothing: BCNet's FPN starts at res3.
        return [.. _fpn.ForwardLevels(_body.Forward(input.On(_device))[(FirstLevel - 2)..]).Select(scope.Keep)];
    }

    /// <summary>Detections and occludee masks of a preprocessed image, in its resized coordinates.</summary>
    /// <param name="clock">Times the backbone and the heads when benchmarking.</param>
    public MaskDetections Detect(PreprocessedImage input, StageClock? clock = null) => OnFeatures(input, clock, levels => _heads.Forward(levels, clock)[0]);

    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images) => Segment(images, null);

    /// <summary>
    /// One image after the other: upstream's test loader feeds BCNet single images. On a device the heads' outputs
    /// stay there up to the final instances (<see cref="BcnetDevicePipeline"/>).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images, StageClock? clock) =>
        images.Select(image =>
        {
            using var input = ImagePreprocessor.Run(image, _preprocess, _device, _resizeTaps);
            clock?.Lap(Stages.Preprocess);
            var geometry = Geometry(input);
            if (_devicePipeline is { } pipeline) return OnFeatures(input, clock, levels => pipeline.Run(levels, geometry, clock));
            return _postprocessor.Run(Detect(input, clock), geometry, clock);
        }).ToList();

    public IReadOnlyList<ExplainedInstance> Explain(Image image)
    {
        using var input = ImagePreprocessor.Run(image, _preprocess, _device, _resizeTaps);
        var (detections, maps) = OnFeatures(input, null, levels => _heads.Explain(levels)[0]);
        var geometry = Geometry(input);
        return OcclusionExplanations.Assemble(_postprocessor.RunTraced(detections, geometry), detections.Boxes, [.. maps.Select(m => m.Panels())], _postprocessor.Scales(geometry), columns: 4);
    }

    private T OnFeatures<T>(PreprocessedImage input, StageClock? clock, Func<Tensor[], T> heads)
    {
        using var scope = TensorScope.Begin();
        var levels = Features(input);
        clock?.Lap(Stages.Backbone);
        return heads(levels);
    }

    private static ImageGeometry Geometry(PreprocessedImage input) => new(input.Height, input.Width, input.OriginalHeight, input.OriginalWidth);

    protected override void OnDispose()
    {
        _devicePipeline?.Dispose();
        _resizeTaps.Dispose();
    }
}
