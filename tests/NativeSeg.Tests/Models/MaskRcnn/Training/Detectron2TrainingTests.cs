using System.Text.Json.Nodes;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Optim;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.MaskRcnn.Training;
using NativeSeg.Tests.Bcnet;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn.Training;

/// <summary>
/// detectron2-flavour training steps on a small maskrcnn_R_50_FPN_detectron2 (narrow FPN and heads, 2 foreground
/// classes with background last): TrainingStepParityTests covers torchvision's layout only, so this checks that
/// detectron2's names, class layout (num_classes − 1 box and mask rows) and frozen stem + res2 train end to end.
/// There is no torch reference here: the checks are structural (names, finiteness, which gradients flow) plus
/// determinism of the seeded sampling.
/// </summary>
public sealed class Detectron2TrainingTests(ITestOutputHelper output)
{
    private const int Height = 96, Width = 128;

    private static readonly string[] Detectron2LossNames = ["loss_rpn_cls", "loss_rpn_loc", "loss_cls", "loss_box_reg", "loss_mask"];

    [Fact]
    public void OneStepGivesDetectron2LossesAndGradientsAndSgdChangesThem()
    {
        using var model = LoadModel();
        var losses = new MaskRcnnLosses(model, MaskRcnnTrainingConfig.For(DetectionFlavour.Detectron2));
        Assert.Equal(Detectron2LossNames, losses.Names);
        using var batch = Batch();
        var images = Images();

        float[] first = Step(model, losses, batch, images, seed: 1);
        output.WriteLine($"step 1: {Describe(losses.Names, first)}");
        Assert.All(first, v => Assert.True(float.IsFinite(v), $"losses {Describe(losses.Names, first)}"));
        Assert.True(first[2] > 0, $"loss_cls {first[2]}");
        Assert.True(first[4] > 0, $"loss_mask {first[4]}");

        // The heads the losses reach directly and res3, the first stage left trainable, must all learn.
        string[] mustLearn = ["roi_heads.box_predictor.", "roi_heads.mask_head.predictor.", "proposal_generator.rpn_head.", "backbone.bottom_up.res3."];
        var learning = model.Parameters().Where(p => p.RequiresGrad && mustLearn.Any(m => p.Key.StartsWith(m, StringComparison.Ordinal))).ToList();
        Assert.All(mustLearn, m => Assert.Contains(learning, p => p.Key.StartsWith(m, StringComparison.Ordinal)));
        Assert.All(learning, p =>
        {
            Assert.True(p.Grad is not null, $"{p.Key} got no gradient");
            float[] grad = p.Grad.ToArray<float>();
            Assert.True(grad.All(float.IsFinite), $"{p.Key} has a non-finite gradient");
            Assert.True(grad.Any(g => g != 0), $"{p.Key} has an all-zero gradient");
        });
        // FreezeThrough(2) is detectron2's FREEZE_AT 2; FrozenBN statistics and affine terms are buffers and never train.
        string[] frozen = ["backbone.bottom_up.stem.", "backbone.bottom_up.res2."];
        var untrained = model.Parameters().Where(p => p.Kind == ParameterKind.Buffer || frozen.Any(f => p.Key.StartsWith(f, StringComparison.Ordinal))).ToList();
        Assert.Contains(untrained, p => p.Kind == ParameterKind.Buffer);
        Assert.All(untrained, p => Assert.True(p.Grad is null && !p.RequiresGrad, $"{p.Key} is frozen but has a gradient or requires one"));

        using (var optimizer = new SgdOptimizer(model.TrainableParameters(), 0.9f, 1e-4f))
        {
            // The formula backbone is not a trained one: its features, and so the losses above, run to the hundreds and
            // thousands, and an unclipped step at a usual rate overflows to NaN. Clipping bounds the step instead.
            optimizer.ClipGradientNorm(1.0);
            optimizer.Step(0.01f);
            optimizer.ZeroGrad();
        }
        // The same draws again, so any change in the losses comes from the updated weights.
        float[] second = Step(model, losses, batch, images, seed: 1);
        output.WriteLine($"step 2: {Describe(losses.Names, second)}");
        Assert.All(second, v => Assert.True(float.IsFinite(v), $"losses {Describe(losses.Names, second)}"));
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void TheSameSeedGivesTheSameLossesOnAFreshModel()
    {
        using var batch = Batch();
        var images = Images();
        float[] Run()
        {
            using var model = LoadModel();
            return Step(model, new MaskRcnnLosses(model, MaskRcnnTrainingConfig.For(DetectionFlavour.Detectron2)), batch, images, seed: 1);
        }
        float[] first = Run(), again = Run();
        output.WriteLine($"{Describe(Detectron2LossNames, first)} / {Describe(Detectron2LossNames, again)}");
        Assert.Equal(first, again);
    }

    /// <summary>One forward + backward; the five loss values, gradients left on the parameters.</summary>
    private static float[] Step(NativeSeg.Models.MaskRcnn.MaskRcnn model, MaskRcnnLosses losses, Tensor batch, IReadOnlyList<TrainingImage> images, ulong seed)
    {
        using var scope = TensorScope.Begin();
        using var tape = Tape.Record(model.TrainableParameters());
        var terms = losses.Compute(batch, images, new SeededSampling(seed));
        Assert.Equal(5, terms.Count);
        tape.Backward(terms.Skip(1).Aggregate(terms[0], Functional.Add));
        return [.. terms.Select(t => t.ToArray<float>()[0])];
    }

    private static string Describe(IReadOnlyList<string> names, float[] values) => string.Join(" ", names.Zip(values, (n, v) => $"{n}={v:G6}"));

    /// <summary>
    /// A converted file of the small model, loaded raw with stem + res2 frozen: the formula R50 bottom-up and hashed
    /// FPN and heads of BcnetFrcnnWeights (BCNet's bilayer head keys match none of this model's at these widths).
    /// </summary>
    private static NativeSeg.Models.MaskRcnn.MaskRcnn LoadModel()
    {
        var config = new JsonObject
        {
            ["fpn_channels"] = 32, ["box_representation"] = 64, ["mask_conv_dim"] = 32,
            ["num_classes"] = 3, ["category_ids"] = new JsonArray(1, 2),
        };
        using var fixture = new BcnetFixture();
        using var weights = new BcnetFrcnnWeights(fixture);
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        weights.Write(path, MaskRcnnArchitectures.Detectron2, config);
        var model = NativeSeg.Models.MaskRcnn.MaskRcnn.LoadRaw(path, Device.Cpu);
        model.Backbone.Body.FreezeThrough(2);
        return model;
    }

    /// <summary>Two images' normalised pixels in one [2, 3, 96, 128] batch; the second image is 88×120, zero-padded as detectron2 pads.</summary>
    private static Tensor Batch()
    {
        float[] pixels = HashedWeights.Uniform("detectron2 training batch", 2L * 3 * Height * Width, 1.5);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                    if (y >= 88 || x >= 120) pixels[((3 + c) * Height + y) * Width + x] = 0;
        return Tensor.FromArray(pixels, 2, 3, Height, Width);
    }

    /// <summary>A few boxes of both foreground classes (logits 0 and 1; 2 is detectron2's background) with polygon masks inside them.</summary>
    private static IReadOnlyList<TrainingImage> Images() =>
    [
        new(Height, Width, Truth(Height, Width, [(10, 12, 60, 70, 0), (70, 20, 120, 90, 1), (30, 40, 90, 80, 1)])),
        new(88, 120, Truth(88, 120, [(5, 5, 50, 45, 1), (55, 30, 115, 85, 0)])),
    ];

    private static GroundTruth Truth(int height, int width, (float X1, float Y1, float X2, float Y2, int Class)[] instances) =>
        new(height, width, [.. instances.SelectMany(i => new[] { i.X1, i.Y1, i.X2, i.Y2 })], [.. instances.Select(i => i.Class)],
            // A diamond touching the box's sides, so mask targets differ from the box's rectangle.
            [.. instances.Select(i => (CocoSegmentation)new PolygonSegmentation([[
                (i.X1 + i.X2) / 2, i.Y1, i.X2, (i.Y1 + i.Y2) / 2, (i.X1 + i.X2) / 2, i.Y2, i.X1, (i.Y1 + i.Y2) / 2]]))]);
}
