using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Losses;
using NativeSeg.Layers.Autograd;
using NativeSeg.Models.Detection;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>One image of a training batch: its unpadded size in the batch and its ground truth in that frame.</summary>
public sealed record TrainingImage(int Height, int Width, GroundTruth Truth);

/// <summary>
/// Mask R-CNN's five training losses on one batch, computed with differentiable ops so a recording
/// <see cref="Tape"/> can back-propagate them, with each flavour's targets and normalisers (spec §1.13):
/// <list type="bullet">
/// <item>RPN objectness: BCE over the sampled anchors; torchvision takes the mean, detectron2 the sum over 256·N.</item>
/// <item>RPN boxes: smooth-L1 (β 1/9; detectron2 β 0 = L1) over positive anchors, summed and divided by the sampled
/// count (torchvision) or 256·N (detectron2).</item>
/// <item>Classifier: cross-entropy mean over the sampled RoIs.</item>
/// <item>Box regression: smooth-L1 over foreground RoIs of their class's deltas, summed and divided by the number of sampled RoIs.</item>
/// <item>Mask: BCE mean over the foreground RoIs' 28×28 targets in their class's channel.</item>
/// </list>
/// Anchors and RoIs are drawn by an <see cref="ISampling"/>: seeded in training, torch's own draws in parity tests
/// (torch's randperm cannot be reproduced).
/// </summary>
public sealed class MaskRcnnLosses(MaskRcnn model, MaskRcnnTrainingConfig config)
{
    private readonly MaskRcnnConfig _heads = model.Setup.Heads;

    /// <summary>The loss names in the flavour's own spelling, in the order <see cref="Compute"/> returns them.</summary>
    public IReadOnlyList<string> Names => config.Flavour.LossNames;

    /// <summary>
    /// The losses of a batch [N, 3, H, W] (normalised and padded) whose images are <paramref name="images"/>; each a
    /// one-element tensor in the current scope, recorded on the current tape if there is one.
    /// </summary>
    public IReadOnlyList<Tensor> Compute(Tensor batch, IReadOnlyList<TrainingImage> images, ISampling sampling)
    {
        if (images.Count != batch.Shape[0]) throw new ArgumentException($"training batch: {batch.Shape[0]} images but {images.Count} ground truths");
        var pyramid = model.Backbone.Forward(batch);
        var features = pyramid.Maps;
        var rpn = model.Heads.RunRpn(features, (batch.Shape[2], batch.Shape[3]));
        var (objectness, rpnBoxes) = RpnLosses(rpn, images, sampling);

        var generator = new ProposalGenerator(_heads with { RpnPreNmsTopK = config.RpnPreNmsTopK, RpnPostNmsTopK = config.RpnPostNmsTopK });
        var proposals = generator.Generate(rpn.Outputs, rpn.Anchors, [.. images.Select(i => (i.Height, i.Width))]);
        var targets = images.Select((image, n) => sampling.Proposals(n, proposals[n].Boxes, image.Truth, config, _heads)).ToList();
        var (classifier, boxes) = BoxLosses(features, targets);
        return [objectness, rpnBoxes, classifier, boxes, MaskLoss(features, targets, images)];
    }

    private (Tensor Objectness, Tensor Boxes) RpnLosses(RpnOutputs rpn, IReadOnlyList<TrainingImage> images, ISampling sampling)
    {
        float[] anchors = [.. rpn.Anchors.SelectMany(a => a)];
        var sampled = images.Select((image, n) =>
        {
            var targets = RpnTargets.Assign(anchors, image.Truth, config);
            return (Targets: targets, Indices: sampling.Anchors(n, targets, config));
        }).ToList();
        int total = sampled.Sum(s => s.Indices.Positive.Length + s.Indices.Negative.Length);
        float normaliser = config.Flavour.RpnLossNormaliser(config.RpnBatchSizePerImage, images.Count, total);
        var objectness = new List<Tensor>();
        var boxes = new List<Tensor>();
        int levelStart = 0;
        for (int l = 0; l < rpn.Outputs.Count; l++)
        {
            var (logits, deltas) = rpn.Outputs[l];
            int cells = logits.Shape[2] * logits.Shape[3], perImage = cells * AnchorGenerator.PerCell;
            var logitIndex = new List<long>();
            var labels = new List<float>();
            var deltaIndex = new List<long>();
            var deltaTargets = new List<float>();
            for (int n = 0; n < images.Count; n++)
            {
                var (targets, indices) = sampled[n];
                foreach (var (anchor, label) in indices.Positive.Select(a => (a, 1f)).Concat(indices.Negative.Select(a => (a, 0f))))
                {
                    int local = anchor - levelStart;
                    if (local < 0 || local >= perImage) continue;
                    // Anchor (cell·A + a) of image n lives at [n, a, cell] of the [N, A, H, W] logits.
                    int cell = local / AnchorGenerator.PerCell, a = local % AnchorGenerator.PerCell;
                    logitIndex.Add(((long)n * AnchorGenerator.PerCell + a) * cells + cell);
                    labels.Add(label);
                    if (label == 0) continue;
                    for (int k = 0; k < 4; k++)
                    {
                        deltaIndex.Add(((long)n * 4 * AnchorGenerator.PerCell + a * 4 + k) * cells + cell);
                        deltaTargets.Add(targets.Deltas[anchor * 4 + k]);
                    }
                }
            }
            levelStart += perImage;
            if (logitIndex.Count > 0)
            {
                var picked = Pick(logits, logitIndex);
                using var labelTensor = Upload(labels, picked);
                objectness.Add(Functional.BinaryCrossEntropyWithLogits(picked, labelTensor, LossReduction.Sum, 1f / normaliser));
            }
            if (deltaIndex.Count > 0)
            {
                var picked = Pick(deltas, deltaIndex);
                using var deltaTensor = Upload(deltaTargets, picked);
                boxes.Add(Functional.SmoothL1(picked, deltaTensor, config.BoxLossBeta, LossReduction.Sum, 1f / normaliser));
            }
        }
        return (Sum(objectness, rpn.Outputs[0].Logits), Sum(boxes, rpn.Outputs[0].Logits));
    }

    private (Tensor Classifier, Tensor Boxes) BoxLosses(IReadOnlyList<Tensor> features, IReadOnlyList<ProposalTargets> targets)
    {
        var (head, pooler) = model.Heads.BoxBranch;
        var (logits, deltas) = head.Forward(pooler.Pool(features, [.. targets.Select(t => new BoxList(t.Boxes, new float[t.Count]))]));
        int rows = logits.Shape[0], classes = _heads.BoxClasses;
        using var labels = Tensor.FromArray(targets.SelectMany(t => t.Classes).Select(c => (long)c).ToArray(), rows);
        var classifier = Functional.CrossEntropy(logits, labels.Device == logits.Device ? labels : labels.To(logits.Device));
        var foreground = new List<long>();
        var deltaTargets = new List<float>();
        int offset = 0;
        foreach (var t in targets)
        {
            foreach (int i in t.Foreground(_heads))
            {
                foreground.Add((long)(offset + i) * classes + t.Classes[i]);
                deltaTargets.AddRange(t.Deltas.AsSpan(i * 4, 4).ToArray());
            }
            offset += t.Count;
        }
        // No foreground RoI: upstream's sum over nothing, a zero loss with no gradient.
        if (foreground.Count == 0) return (classifier, Tensor.Zeros(new Shape(1), DType.Float32, logits.Device));
        var picked = Functional.GatherRows(Functional.Reshape(deltas, rows * classes, 4), Index(foreground));
        using var deltaTensor = Upload(deltaTargets, picked);
        return (classifier, Functional.SmoothL1(picked, deltaTensor, config.BoxLossBeta, LossReduction.Sum, 1f / Math.Max(rows, 1)));
    }

    private Tensor MaskLoss(IReadOnlyList<Tensor> features, IReadOnlyList<ProposalTargets> targets, IReadOnlyList<TrainingImage> images)
    {
        var (head, pooler) = model.Heads.MaskBranch;
        if (head is null) throw new NotSupportedException($"{model.Architecture}: training the bilayer mask head is not implemented yet");
        var boxes = new List<BoxList>();
        var channels = new List<long>();
        var maskTargets = new List<float>();
        int side = config.MaskSize, classes = _heads.BoxClasses;
        for (int n = 0; n < targets.Count; n++)
        {
            var t = targets[n];
            int[] fg = t.Foreground(_heads);
            float[] fgBoxes = [.. fg.SelectMany(i => t.Boxes.AsSpan(i * 4, 4).ToArray())];
            boxes.Add(new BoxList(fgBoxes, new float[fg.Length]));
            foreach (int i in fg) channels.Add((long)(channels.Count * classes + t.Classes[i]));
            maskTargets.AddRange(MaskTargets.Build(images[n].Truth, fgBoxes, [.. fg.Select(i => t.MatchedGt[i])], config.Flavour.MaskTargets, side));
        }
        int rois = boxes.Sum(b => b.Count);
        // No foreground RoI: upstream returns mask_logits.sum() · 0, a zero loss with zero gradients.
        if (rois == 0) return Tensor.Zeros(new Shape(1), DType.Float32, features[0].Device);
        var logits = head.Logits(pooler.Pool(features, boxes));
        var picked = Functional.GatherRows(Functional.Reshape(logits, rois * classes, side * side), Index(channels));
        using var targetTensor = Upload(maskTargets, picked);
        return Functional.BinaryCrossEntropyWithLogits(picked, targetTensor);
    }

    /// <summary>Elements <paramref name="index"/> of <paramref name="x"/> read in flat order, as a [K, 1] column.</summary>
    private static Tensor Pick(Tensor x, List<long> index) => Functional.GatherRows(Functional.Reshape(x, -1, 1), Index(index));

    private static Tensor Index(List<long> index) => Tensor.FromArray(index.ToArray(), index.Count);

    /// <summary>Host values shaped like <paramref name="like"/> on its device.</summary>
    private static Tensor Upload(List<float> values, Tensor like)
    {
        using var host = Tensor.FromArray(values.ToArray(), like.Shape.ToArray());
        return host.To(like.Device);
    }

    /// <summary>Σ of per-level losses; a zero loss (no gradient) when no level had any.</summary>
    private static Tensor Sum(List<Tensor> terms, Tensor like)
    {
        if (terms.Count == 0) return Tensor.Zeros(new Shape(1), DType.Float32, like.Device);
        var total = terms[0];
        for (int i = 1; i < terms.Count; i++) total = Functional.Add(total, terms[i]);
        return total;
    }
}
