using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.Candidates;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Selection;
using NativeSeg.Kernels.Transpose;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using CandidatesOp = NativeSeg.Kernels.Candidates.Candidates;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using SoftmaxOp = NativeSeg.Kernels.Softmax.Softmax;

namespace NativeSeg.Models.Detection;

/// <summary>
/// <see cref="FastRcnnOutputs"/> with every step a device kernel: softmax, per-class decode and clip, score and (the
/// flavour's) small-box filter of the proposals the device counted, class-aware NMS (with the flavour's "+1" areas
/// or not), and the best <see cref="DetectorConfig.DetectionsPerImage"/> in the host's order (score, then proposal,
/// then class; class by class where the flavour orders them so), counted on the device. A flavour that keeps the
/// ties of the cap-th score (<see cref="Flavours.DetectionFlavour.CapKeepsTies"/>) gets exactly the cap here: the
/// slots are sized by it, so where scores tie exactly at the cap-th place the device keeps those of the lower
/// proposal and class and the host all of them. The candidates are a grid of proposals × box classes:
/// detectron2's background logit, last and without a box of its own, is not a column of it. The NMS is one segmented launch sequence for the whole batch, a segment per (image,
/// class): the same result as a batched NMS over each image's candidates, without its IoU bitmask over a
/// thousand proposals × 90 classes (a gigabyte), and in a number of launches that does not grow with the classes.
/// </summary>
public sealed class DeviceBoxPostprocess(DetectorConfig config)
{
    /// <param name="logits">[Σ capacity, classes] for all images' padded proposals, image after image.</param>
    /// <param name="deltas">[Σ capacity, 4·classes].</param>
    /// <param name="proposals">Each image's proposals, all of one capacity (a batch's RPN makes them so).</param>
    public IReadOnlyList<DeviceDetections> Infer(Tensor logits, Tensor deltas, IReadOnlyList<DeviceBoxes> proposals, IReadOnlyList<(int H, int W)> imageSizes)
    {
        if (proposals.Count == 0) return [];
        int images = proposals.Count, rows = proposals[0].Capacity, classes = config.BoxClasses, n = rows * classes, top = config.DetectionsPerImage;
        if (proposals.Any(p => p.Capacity != rows))
            throw new ArgumentException($"device box head: the images' proposal capacities ({string.Join(", ", proposals.Select(p => p.Capacity))}) differ; one segmented NMS needs the same for every image");
        using var scope = TensorScope.Begin();
        var probs = BoxClassProbabilities(logits);
        // A background column is in the grid only where it has boxes (first, as torchvision's).
        var rule = new CandidateRule(config.ScoreThreshold, Strict: true, classes, classes == config.ClassLogits ? config.BackgroundIndex : -1);
        float? minSize = config.Flavour.DetectionMinSize;
        var (boxes, scores, labels) = (new List<Tensor>(images), new List<Tensor>(images), new List<Tensor>(images));
        for (int i = 0; i < images; i++)
        {
            // Each image clips to its own size and counts its own proposals.
            var decoded = BoxCoderOp.Decode(deltas.Slice(i * rows, rows), proposals[i].Boxes, BoxWeights.RoiHeads, config.Flavour.Convention, clipTo: imageSizes[i]);
            var sized = minSize is float min ? BoxCoderOp.KeepMask(decoded, min) : null;
            var (filtered, label) = CandidatesOp.Filter(probs.Slice(i * rows, rows), sized, null, proposals[i].Count, rule);
            boxes.Add(decoded);
            scores.Add(filtered);
            labels.Add(label);
        }
        var allBoxes = Concat.Forward(boxes, 0).Reshape(images, rows, classes, 4);
        // Class-major within each image, so each (image, class) pair's candidates are one contiguous segment.
        var segmentScores = Transpose.LastTwo(Concat.Forward(scores, 0).Reshape(images, rows, classes)).Reshape(images * classes, rows);
        var segmentLabels = Transpose.LastTwo(Concat.Forward(labels, 0).Reshape(images, rows, classes)).Reshape(images * classes, rows);
        var segmentBoxes = Transpose.LastTwo(allBoxes, elementDims: 1).Reshape(images * classes, rows, 4);
        var (keep, _) = NmsOp.Segmented(segmentBoxes, segmentScores, segmentLabels, config.NmsThreshold, config.Flavour.PlusOne);
        var kept = CandidatesOp.KeptScores(keep, segmentScores);
        var byProposal = Transpose.LastTwo(kept.Reshape(images, classes, rows)).Reshape(images, n);
        int k = Math.Min(top, n);
        var (_, ranking) = TopK.LastDim(byProposal, k);

        var result = new List<DeviceDetections>(images);
        for (int i = 0; i < images; i++)
        {
            var imageScores = byProposal.Slice(i, 1).Reshape(n);
            var taken = CandidatesOp.Take(ranking.Slice(i, 1).Reshape(k), imageScores, top, classes);
            if (config.Flavour.OrdersDetectionsByClass) taken = ByClass(taken, imageScores, top, classes);
            var detections = new DeviceBoxes(scope.Keep(Gather.Rows(allBoxes.Slice(i, 1).Reshape(n, 4), taken.Index)), scope.Keep(taken.Count));
            result.Add(new DeviceDetections(detections, scope.Keep(Gather.Rows(imageScores.Reshape(n, 1), taken.Index)),
                scope.Keep(taken.Column.Reshape(top, 1)), scope.Keep(taken.Select)));
        }
        return result;
    }

    /// <summary>
    /// <paramref name="taken"/>'s detections taken again class by class: a descending top-k of each live slot's
    /// negated class (dead slots at −inf) keeps each class's slots in their score order, as its ties go to the lower slot.
    /// </summary>
    private static TakenCandidates ByClass(TakenCandidates taken, Tensor scores, int top, int classes)
    {
        var negated = Arithmetic.Affine(taken.Column, -1f, 0f);
        var (keys, _) = CandidatesOp.Filter(negated, null, null, taken.Count, new CandidateRule(float.NegativeInfinity, Strict: false));
        var (_, slots) = TopK.LastDim(keys, top);
        var positions = Gather.Rows(taken.Index.Reshape(top, 1), slots).Reshape(top);
        return CandidatesOp.Take(positions, scores, top, classes);
    }

    /// <summary>
    /// The softmax [Σ capacity, box classes]: every logit's probability, less the background's where it is the last
    /// logit and has no box (its column cut from the transposed probabilities, so the grid's column is the logit).
    /// </summary>
    private Tensor BoxClassProbabilities(Tensor logits)
    {
        var probs = SoftmaxOp.LastDim(logits);
        if (config.BoxClasses == config.ClassLogits) return probs;
        var byLogit = Transpose.LastTwo(probs);
        return Transpose.LastTwo(byLogit.Slice(0, config.BoxClasses));
    }
}
