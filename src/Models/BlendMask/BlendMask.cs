using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Layers;

namespace NativeSeg.Models.BlendMask;

/// <summary>
/// A whole BlendMask model (AdelaiDet; specs/blendmask.md §1) loaded from a converted .safetensors file: detectron2
/// preprocessing at the config's test size, the (deformable) ResNet with its res3–res5 FPN and top block, AdelaiDet's
/// FCOS head and decoding, the basis module on P3–P5, the top layer's attentions at the kept detections, the
/// blender, then detectron2's box scaling, clipping and paste, with COCO category ids.
/// </summary>
public sealed class BlendMask : Module, IInstanceSegmenter, IMaskExplainer
{
    private readonly FcosBackbone _backbone;
    private readonly FcosHead _head;
    private readonly BasisModule _basis;
    private readonly AttentionLayer _attention;
    private readonly FcosPostprocess _decode;
    private readonly Blender _blender = new();
    private readonly InstancePostprocessor _postprocessor;
    // Set on a device: everything after the backbone runs there up to the final instances.
    private readonly BlendMaskDevicePipeline? _devicePipeline;
    private readonly PillowTaps _resizeTaps;
    private readonly PreprocessConfig _preprocess;
    private readonly Device _device;

    private BlendMask(BlendMaskArchitecture architecture, ParameterStore store, PreprocessConfig preprocess, FcosConfig fcos)
    {
        Variant = architecture;
        _device = store.Device;
        _preprocess = preprocess;
        _backbone = Child(new FcosBackbone(store, architecture.Backbone, fcos.TopLevels));
        _head = Child(new FcosHead(store, fcos, keepBoxFeatures: true));
        _basis = Child(new BasisModule(store, fcos.Channels, inputLevels: 3, architecture.BasisConvs));
        _attention = Child(new AttentionLayer(store, fcos.Channels, _blender.AttentionLength));
        _decode = new FcosPostprocess(fcos);
        // AdelaiDet is detectron2 code: contiguous labels 0–79 map to COCO ids and masks paste the detectron2 way.
        var outputs = DetectorConfig.Detectron2CocoOutputs();
        _postprocessor = new InstancePostprocessor(outputs, _device);
        _resizeTaps = new PillowTaps(_device);
        if (!_device.IsCpu) _devicePipeline = new BlendMaskDevicePipeline(_head, _basis, _attention, _blender, fcos, _postprocessor, outputs);
    }

    public BlendMaskArchitecture Variant { get; }

    public string Architecture => Variant.Name;

    public IReadOnlyDictionary<long, string>? CategoryNames => null;

    public bool CanExplain => true;

    /// <param name="scoreThreshold">Replaces FCOS's candidate threshold on sigmoid(cls)·sigmoid(ctr) (the released configs' 0.05).</param>
    public static BlendMask Load(string path, Device device, float? scoreThreshold = null, InferencePrecision precision = InferencePrecision.Fp32) =>
        ConvertedModel.Open(path, BlendMaskArchitecture.Named, (architecture, metadata, weights) =>
        {
            var (preprocess, fcos) = architecture.Settings(metadata.GetValueOrDefault("config", "{}"), path);
            if (scoreThreshold is { } s) fcos = fcos with { InferenceThreshold = s };
            using var store = weights.IntoStore(device);
            return Load(store, path, architecture, preprocess, fcos, precision);
        });

    /// <summary>The model compiled for inference (every frozen BatchNorm folded into its conv).</summary>
    /// <param name="what">Names the weights' source in errors.</param>
    public static BlendMask Load(ParameterStore store, string what, BlendMaskArchitecture architecture, PreprocessConfig preprocess, FcosConfig fcos,
        InferencePrecision precision = InferencePrecision.Fp32)
    {
        var model = ConvertedModel.Checked(() => new BlendMask(architecture, store, preprocess, fcos),
            store, n => architecture.MapKey(n) is null, what, architecture.Name);
        return ConvertedModel.Compiled(model, precision);
    }

    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images) => Segment(images, null);

    /// <summary>
    /// One image after the other, as AdelaiDet's test loader feeds them. On a device the heads' outputs stay there up
    /// to the final instances (<see cref="BlendMaskDevicePipeline"/>), unless more detections tie at the cut than its
    /// slots hold: that image's heads then run again with the host's postprocess.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Segment(IReadOnlyList<Image> images, StageClock? clock) =>
        images.Select(image =>
        {
            using var input = ImagePreprocessor.Run(image, _preprocess, _device, _resizeTaps);
            clock?.Lap(Stages.Preprocess);
            var geometry = Geometry(input);
            using var scope = TensorScope.Begin();
            var pyramid = Pyramid(input, clock);
            if (_devicePipeline?.Run(pyramid, geometry, clock) is { } instances) return instances;
            return _postprocessor.Run(Heads(pyramid, clock, explain: false).Detections, geometry, clock);
        }).ToList();

    /// <summary>Detections and their 56×56 mask probabilities for a preprocessed image, in its resized coordinates.</summary>
    /// <param name="clock">Times the backbone, FCOS, the basis module and the blender when benchmarking.</param>
    public MaskDetections Detect(PreprocessedImage input, StageClock? clock = null) => Run(input, clock, explain: false).Detections;

    /// <summary>
    /// Each instance with what its mask is blended from: per basis its crop over the RoI and its attention, then
    /// the blended logit and the mask probability, in two rows.
    /// </summary>
    public IReadOnlyList<ExplainedInstance> Explain(Image image)
    {
        using var input = ImagePreprocessor.Run(image, _preprocess, _device, _resizeTaps);
        var (detections, maps) = Run(input, null, explain: true);
        var geometry = Geometry(input);
        return OcclusionExplanations.Assemble(_postprocessor.RunTraced(detections, geometry), detections.Boxes, maps,
            _postprocessor.Scales(geometry), columns: maps.Count == 0 ? 1 : maps[0].Count / 2);
    }

    private (MaskDetections Detections, IReadOnlyList<IReadOnlyList<ExplanationMap>> Maps) Run(PreprocessedImage input, StageClock? clock, bool explain)
    {
        using var scope = TensorScope.Begin();
        return Heads(Pyramid(input, clock), clock, explain);
    }

    /// <summary>P3 up of a preprocessed image, in the caller's scope.</summary>
    private IReadOnlyList<Tensor> Pyramid(PreprocessedImage input, StageClock? clock)
    {
        var pyramid = _backbone.Forward(input.On(_device));
        clock?.Lap(Stages.Backbone);
        return pyramid;
    }

    /// <summary>The host path's detections and masks from the pyramid: FCOS decoded on the host, the blender at the kept detections.</summary>
    private (MaskDetections Detections, IReadOnlyList<IReadOnlyList<ExplanationMap>> Maps) Heads(IReadOnlyList<Tensor> pyramid, StageClock? clock, bool explain)
    {
        using var scope = TensorScope.Begin();
        var outputs = _head.Forward(pyramid);
        var found = _decode.RunTraced(outputs)[0];
        clock?.Lap(Stages.FcosHead);
        var bases = _basis.Forward(pyramid);
        clock?.Lap(Stages.Bases);
        var detections = found.Detections;
        int side = _blender.Resolution;
        if (detections.Count == 0) return (new MaskDetections(detections, [], side, []), []);
        var attentions = _attention.Forward([.. outputs.Select(o => o.BoxFeatures!)], found.Levels, found.Locations);
        using var rois = BoxList.ToRois([detections.AsBoxList()], _device);
        var (probabilities, maps) = explain ? _blender.Explain(bases, rois, attentions) : (_blender.Forward(bases, rois, attentions).ToArray<float>(), []);
        clock?.Lap(Stages.Blender);
        // BlendMask scores its masks with the box scores.
        return (new MaskDetections(detections, probabilities, side, detections.Scores), maps);
    }

    private static ImageGeometry Geometry(PreprocessedImage input) => new(input.Height, input.Width, input.OriginalHeight, input.OriginalWidth);

    protected override void OnDispose()
    {
        _devicePipeline?.Dispose();
        _resizeTaps.Dispose();
    }
}
