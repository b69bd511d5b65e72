using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Inference;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Models.Detection;
using NativeSeg.Layers;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// A whole Mask R-CNN (or MS R-CNN, or BCNet's Faster R-CNN variant): preprocessing, ResNet-FPN backbone, heads
/// and postprocessing, loaded from a converted .safetensors file whose metadata names the architecture.
/// </summary>
public sealed class MaskRcnn : Module, IInstanceSegmenter, IOcclusionExplainer
{
    private readonly ResNetFpn _backbone;
    private readonly MaskRcnnHeads _heads;
    private readonly InstancePostprocessor _postprocessor;
    // Set on a device for the configurations whose every stage has device kernels; others run their postprocess on the host.
    private readonly MaskRcnnDevicePipeline? _devicePipeline;
    private readonly PillowTaps _resizeTaps;

    private MaskRcnn(MaskRcnnSetup setup, ParameterStore store)
    {
        Setup = setup;
        Device = store.Device;
        _backbone = Child(new ResNetFpn(store, setup.Backbone));
        _heads = Child(new MaskRcnnHeads(store, setup.Heads));
        _postprocessor = new InstancePostprocessor(setup.Heads, Device);
        _resizeTaps = new PillowTaps(Device);
        if (!Device.IsCpu && MaskRcnnDevicePipeline.Supports(setup.Heads)) _devicePipeline = new MaskRcnnDevicePipeline(_heads, _postprocessor);
    }

    public MaskRcnnSetup Setup { get; }

    /// <summary>The ResNet-FPN backbone (for training: freezing, forward on a batch).</summary>
    public ResNetFpn Backbone => _backbone;

    internal MaskRcnnHeads Heads => _heads;

    public Device Device { get; }

    public string Architecture => Setup.Architecture;

    public IReadOnlyDictionary<long, string>? CategoryNames => Setup.CategoryNames;

    public bool CanExplain => Setup.Heads.BilayerMask;

    /// <summary>The setup a model file declares, read from its header alone (no weights are loaded).</summary>
    public static MaskRcnnSetup Inspect(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return MaskRcnnArchitectures.FromMetadata(file.Metadata, path);
    }

    /// <summary>The model with raw, trainable parameters (frozen BatchNorms not folded).</summary>
    /// <param name="scoreThreshold">Overrides the box score threshold of the file's configuration.</param>
    public static MaskRcnn LoadRaw(string path, Device device, float? scoreThreshold = null)
    {
        using var file = SafetensorsFile.Open(path);
        var setup = MaskRcnnArchitectures.FromMetadata(file.Metadata, path);
        if (scoreThreshold is { } s) setup = setup with { Heads = setup.Heads with { ScoreThreshold = s } };
        using var weights = Float32Weights.Load(file);
        using var store = weights.IntoStore(device);
        return Create(setup, store, path);
    }

    /// <summary>A raw model of <paramref name="setup"/> from CPU tensors by checkpoint key, every one of which it must use.</summary>
    /// <param name="what">Names the weights' source in errors.</param>
    public static MaskRcnn Create(MaskRcnnSetup setup, IReadOnlyDictionary<string, Tensor> weights, Device device, string what) =>
        Create(setup, new ParameterStore(weights, device), what);

    private static MaskRcnn Create(MaskRcnnSetup setup, ParameterStore store, string what) =>
        ConvertedModel.Checked(() => new MaskRcnn(setup, store), store, n => n.EndsWith("num_batches_tracked", StringComparison.Ordinal), what, setup.Architecture);

    /// <summary>The model compiled for inference: every frozen BatchNorm folded into its convolution.</summary>
    /// <param name="scoreThreshold">Overrides the box score threshold of the file's configuration.</param>
    /// <param name="precision">fp16: convolutions and fully connected layers in half precision (a device only).</param>
    public static MaskRcnn Load(string path, Device device, float? scoreThreshold = null, InferencePrecision precision = InferencePrecision.Fp32) =>
        ConvertedModel.Compiled(LoadRaw(path, device, scoreThreshold), precision);

    /// <summary>Instances of each image, run as one batch padded to the largest image.</summary>
    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images) => Segment(images, null);

    /// <param name="clock">Times each stage when benchmarking.</param>
    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images, StageClock? clock)
    {
        if (images.Count == 0) return [];
        using var scope = TensorScope.Begin();
        return OnFeatures(images, clock, (features, padded, geometries) =>
        {
            if (_devicePipeline is not null) return _devicePipeline.Run(features, padded, geometries, clock);
            var detections = _heads.Forward(features, padded, [.. geometries.Select(g => (g.Height, g.Width))], clock);
            return geometries.Select((g, n) => _postprocessor.Run(detections[n], g, clock)).ToList();
        });
    }

    /// <summary>The image's instances as <see cref="Segment(IReadOnlyList{Image})"/> gives them, with the bilayer head's four maps.</summary>
    public IReadOnlyList<ExplainedInstance> Explain(Image image)
    {
        if (!CanExplain) throw new InvalidOperationException($"{Architecture} has no bilayer mask head to explain its masks with");
        using var scope = TensorScope.Begin();
        return OnFeatures([image], null, (features, padded, geometries) =>
        {
            var g = geometries[0];
            var (detections, maps) = _heads.Explain(features, padded, [(g.Height, g.Width)])[0];
            return OcclusionExplanations.Assemble(_postprocessor.RunTraced(detections, g), detections.Boxes, [.. maps.Select(m => m.Panels())], _postprocessor.Scales(g), columns: 4);
        });
    }

    protected override void OnDispose()
    {
        _devicePipeline?.Dispose();
        _resizeTaps.Dispose();
    }

    /// <summary>Runs <paramref name="heads"/> on the FPN levels of the images batched and padded to the largest.</summary>
    private T OnFeatures<T>(IReadOnlyList<Image> images, StageClock? clock, Func<IReadOnlyList<Tensor>, (int H, int W), IReadOnlyList<ImageGeometry>, T> heads)
    {
        var (batch, geometries) = ImagePreprocessor.Batch(images, Setup.Preprocess, Device, _resizeTaps);
        clock?.Lap(Stages.Preprocess);
        var features = _backbone.Forward(batch);
        clock?.Lap(Stages.Backbone);
        return heads(features.Maps, (batch.Shape[2], batch.Shape[3]), geometries);
    }
}
