using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Tests.Formats;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.MaskHeads;
using MaskRcnnModel = NativeSeg.Models.MaskRcnn.MaskRcnn;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// Whole bcnet-frcnn models (the bilayer head on detectron2's Mask R-CNN) run end to end on the CPU: their masks
/// are the bilayer head's on ROIAlignV2 features of the final boxes, their boxes the plain Mask R-CNN's.
/// </summary>
public sealed class BcnetFrcnnModelTests(BcnetFrcnnModelTests.Models models) : IClassFixture<BcnetFrcnnModelTests.Models>
{
    private const int Side = BilayerMaskHead.MaskSide, Plane = Side * Side;

    /// <summary>Class-agnostic and class-specific bcnet-frcnn files and the plain Mask R-CNN on the same backbone, RPN and box head.</summary>
    public sealed class Models : IDisposable
    {
        private readonly TempFolder _temp = new();

        public Models()
        {
            Fixture = new BcnetFixture();
            Weights = new BcnetFrcnnWeights(Fixture);
            Agnostic = _temp.File("agnostic.safetensors");
            AgnosticWeights = Weights.Write(Agnostic, MaskRcnnArchitectures.BcnetR50, Weights.Config());
            Specific = _temp.File("specific.safetensors");
            SpecificWeights = Weights.Write(Specific, MaskRcnnArchitectures.BcnetR50, Weights.Config(classAgnostic: false));
            Plain = _temp.File("plain.safetensors");
            Weights.Write(Plain, MaskRcnnArchitectures.Detectron2, Weights.Config());
            Image = ImageFile.Read(FixturePaths.Fixture("exif_o1.jpg"));
        }

        internal BcnetFixture Fixture { get; }

        internal BcnetFrcnnWeights Weights { get; }

        public string Agnostic { get; }

        internal Dictionary<string, Tensor> AgnosticWeights { get; }

        public string Specific { get; }

        internal Dictionary<string, Tensor> SpecificWeights { get; }

        public string Plain { get; }

        public Image Image { get; }

        public void Dispose()
        {
            Weights.Dispose();
            Fixture.Dispose();
            _temp.Dispose();
        }
    }

    [Fact]
    public void MasksAreTheBilayerHeadOnTheFinalDetections()
    {
        using var model = InstanceSegmenters.Open(models.Agnostic, new SegmenterOptions(Device.Cpu));
        var instances = model.Segment([models.Image])[0];
        var setup = MaskRcnnModel.Inspect(models.Agnostic);
        Assert.Equal(1, setup.Heads.MaskPredictorChannels);
        OnHeads(models.AgnosticWeights, setup, (maps, detections, geometry) =>
        {
            Assert.True(detections.Boxes.Count >= 3, $"{detections.Boxes.Count} detections: too few to test with");
            AssertSameInstances(new InstancePostprocessor(setup.Heads, Device.Cpu).Run(detections, geometry), instances);

            using var head = new BilayerMaskHead(new ParameterStore(models.Fixture.Weights, Device.Cpu), models.Fixture.Channels);
            using var pooled = PoolV2(maps, detections.Boxes.Boxes);
            using var expected = head.Forward(pooled, detections.Boxes.Labels);
            AssertClose(expected.ToArray<float>(), detections.MaskProbs, "occludee masks");
        });
    }

    [Fact]
    public void DetectionsAreThePlainMaskRcnns()
    {
        using var bcnet = InstanceSegmenters.Open(models.Agnostic, new SegmenterOptions(Device.Cpu));
        using var plain = InstanceSegmenters.Open(models.Plain, new SegmenterOptions(Device.Cpu));
        var a = bcnet.Segment([models.Image])[0];
        var b = plain.Segment([models.Image])[0];
        Assert.NotEmpty(a);
        Assert.Equal(b.Select(i => (i.X1, i.Y1, i.X2, i.Y2, i.Score, i.CategoryId)), a.Select(i => (i.X1, i.Y1, i.X2, i.Y2, i.Score, i.CategoryId)));
        Assert.False(((IOcclusionExplainer)plain).CanExplain);
        Assert.Throws<InvalidOperationException>(() => ((IOcclusionExplainer)plain).Explain(models.Image));
    }

    /// <summary>Each detection's mask is that of a class-agnostic head whose predictors are row "label" of the class-specific ones.</summary>
    [Fact]
    public void ClassSpecificPredictorsPickEachDetectionsClass()
    {
        var setup = MaskRcnnModel.Inspect(models.Specific);
        Assert.Equal(80, setup.Heads.MaskPredictorChannels);
        OnHeads(models.SpecificWeights, setup, (maps, detections, _) =>
        {
            var labels = detections.Boxes.Labels;
            Assert.True(labels.Distinct().Count() >= 2, "the detections need two classes at least");
            using var pooled = PoolV2(maps, detections.Boxes.Boxes);
            foreach (int label in labels.Distinct())
            {
                var weights = RowOfPredictors(label);
                using var head = new BilayerMaskHead(new ParameterStore(weights, Device.Cpu), models.Fixture.Channels);
                foreach (var made in weights.Values.Except(models.Fixture.Weights.Values)) made.Dispose();
                using var probs = head.Forward(pooled, labels);
                var expected = probs.ToArray<float>();
                for (int i = 0; i < labels.Length; i++)
                    if (labels[i] == label)
                        AssertClose(expected[(i * Plane)..((i + 1) * Plane)], detections.MaskProbs[(i * Plane)..((i + 1) * Plane)], $"detection {i} (class {label})");
            }
        });
    }

    [Fact]
    public void ExplainGivesTheSegmentedInstancesWithTheirFourMaps()
    {
        using var model = InstanceSegmenters.Open(models.Agnostic, new SegmenterOptions(Device.Cpu));
        var explainer = Assert.IsAssignableFrom<IOcclusionExplainer>(model);
        Assert.True(explainer.CanExplain);
        var explained = explainer.Explain(models.Image);
        AssertSameInstances(model.Segment([models.Image])[0], explained.Select(e => e.Instance).ToList());
        var setup = MaskRcnnModel.Inspect(models.Agnostic);
        OnHeads(models.AgnosticWeights, setup, (_, detections, geometry) =>
        {
            var (sx, sy) = new InstancePostprocessor(setup.Heads, Device.Cpu).Scales(geometry);
            var boxes = detections.Boxes.Boxes;
            foreach (var e in explained)
            {
                Assert.Equal(["occluder mask", "occluder boundary", "occludee mask", "occludee boundary"], e.Maps.Select(m => m.Title));
                Assert.All(e.Maps, m => Assert.Equal(Plane, m.Values.Length));
                float[] occluder = e.Maps[0].Values, occludee = e.Maps[2].Values;
                Assert.NotEqual(occludee, occluder);
                int i = Enumerable.Range(0, detections.Boxes.Count).Single(k => boxes[k * 4] * sx == e.RoiX1 && boxes[k * 4 + 1] * sy == e.RoiY1
                    && boxes[k * 4 + 2] * sx == e.RoiX2 && boxes[k * 4 + 3] * sy == e.RoiY2);
                AssertClose(detections.MaskProbs[(i * Plane)..((i + 1) * Plane)], occludee, $"explained mask of detection {i}");
            }
        });
    }

    /// <summary>The fixture's bilayer head with each predictor cut down to its <paramref name="label"/> row, under the fixture's names.</summary>
    private Dictionary<string, Tensor> RowOfPredictors(int label)
    {
        var weights = new Dictionary<string, Tensor>(models.Fixture.Weights, StringComparer.Ordinal);
        int c = models.Fixture.Channels;
        foreach (var predictor in new[] { "predictor", "predictor_bo", "boundary_predictor_bo", "boundary_predictor" })
        {
            var w = models.SpecificWeights[$"{HeadNames.MaskHeadModule}{predictor}.weight"].ToArray<float>();
            var b = models.SpecificWeights[$"{HeadNames.MaskHeadModule}{predictor}.bias"].ToArray<float>();
            weights[$"mask_head.{predictor}.weight"] = Tensor.FromArray(w[(label * c)..((label + 1) * c)], 1, c, 1, 1);
            weights[$"mask_head.{predictor}.bias"] = Tensor.FromArray([b[label]], 1);
        }
        return weights;
    }

    /// <summary>Runs the heads of <paramref name="setup"/> on P2–P6 of the image as one batch, as MaskRcnn does.</summary>
    private void OnHeads(Dictionary<string, Tensor> weights, MaskRcnnSetup setup, Action<IReadOnlyList<Tensor>, MaskDetections, ImageGeometry> check)
    {
        var store = new ParameterStore(weights, Device.Cpu);
        using var backbone = ResNetFpn.Load(store, setup.Backbone);
        using var heads = new MaskRcnnHeads(store, setup.Heads);
        // Compiled as the segmenter is, so both sides run the same arithmetic.
        backbone.CompileForInference();
        heads.CompileForInference();
        using var input = ImagePreprocessor.Run(models.Image, setup.Preprocess, Device.Cpu);
        using var features = backbone.Forward(input.Input);
        var detections = heads.Forward(features.Maps, (input.PaddedHeight, input.PaddedWidth), [(input.Height, input.Width)])[0];
        check(features.Maps, detections, new ImageGeometry(input.Height, input.Width, input.OriginalHeight, input.OriginalWidth));
    }

    /// <summary>detectron2's mask pooler spelled out: ROIAlignV2 (aligned, adaptive sampling) 14×14 over P2–P5 by the canonical level rule.</summary>
    private static Tensor PoolV2(IReadOnlyList<Tensor> maps, float[] boxes)
    {
        using var rois = BoxList.ToRois([new BoxList(boxes, new float[boxes.Length / 4])], Device.Cpu);
        using var levels = RoiAlignOp.AssignLevels(rois, LevelRule.Detectron2);
        return RoiAlignOp.Forward(maps.Take(4).ToList(), [1f / 4, 1f / 8, 1f / 16, 1f / 32], rois, levels, new RoiAlignOptions(14, 14, 0, true));
    }

    private static void AssertSameInstances(IReadOnlyList<SegmentedInstance> expected, IReadOnlyList<SegmentedInstance> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i] with { Mask = actual[i].Mask }, actual[i]);
            Assert.Equal(expected[i].Mask.Counts.ToArray(), actual[i].Mask.Counts.ToArray());
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-5f, $"{what}: max difference {worst}");
    }
}
