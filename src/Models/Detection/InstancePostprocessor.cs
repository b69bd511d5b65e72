using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Inference;
using NativeSeg.Kernels.MaskPaste;

namespace NativeSeg.Models.Detection;

/// <summary>Maps detections from the batch image back to the original image and pastes their masks, per flavour.</summary>
public sealed class InstancePostprocessor(DetectorConfig config, Device device)
{
    /// <param name="clock">Times the paste and RLE encoding when benchmarking; null in ordinary use.</param>
    public IReadOnlyList<SegmentedInstance> Run(MaskDetections detections, ImageGeometry geometry, StageClock? clock = null) =>
        RunTraced(detections, geometry, clock).Select(p => p.Instance).ToList();

    /// <summary>As <see cref="Run"/>, each instance with the index of the detection it came from (empty boxes are dropped).</summary>
    public IReadOnlyList<(SegmentedInstance Instance, int Detection)> RunTraced(MaskDetections detections, ImageGeometry geometry, StageClock? clock = null)
    {
        var d = detections.Boxes;
        var boxes = new List<float>(d.Count * 4);
        var kept = new List<int>(d.Count);
        var (sx, sy) = Scales(geometry);
        for (int i = 0; i < d.Count; i++)
        {
            float x1 = d.Boxes[i * 4] * sx, y1 = d.Boxes[i * 4 + 1] * sy, x2 = d.Boxes[i * 4 + 2] * sx, y2 = d.Boxes[i * 4 + 3] * sy;
            if (config.Flavour.ClipsOutputBoxes)
            {
                // detector_postprocess: clip to the output size, then drop boxes left empty.
                x1 = Clip(x1, geometry.OriginalWidth);
                x2 = Clip(x2, geometry.OriginalWidth);
                y1 = Clip(y1, geometry.OriginalHeight);
                y2 = Clip(y2, geometry.OriginalHeight);
                if (!(x2 - x1 > 0 && y2 - y1 > 0)) continue;
            }
            boxes.AddRange([x1, y1, x2, y2]);
            kept.Add(i);
        }
        if (kept.Count == 0) return [];

        int side = detections.MaskSide, plane = side * side;
        var probs = new float[kept.Count * plane];
        for (int k = 0; k < kept.Count; k++) detections.MaskProbs.AsSpan(kept[k] * plane, plane).CopyTo(probs.AsSpan(k * plane));
        using var hostMasks = Tensor.FromArray(probs, kept.Count, side, side);
        using var hostBoxes = Tensor.FromArray(boxes.ToArray(), kept.Count, 4);
        using var masks = hostMasks.To(device);
        using var boxTensor = hostBoxes.To(device);
        var rles = MaskRleEncoder.Encode(masks, boxTensor, geometry.OriginalHeight, geometry.OriginalWidth, config.Flavour.Paste);
        var result = new List<(SegmentedInstance, int)>(kept.Count);
        for (int k = 0; k < kept.Count; k++)
        {
            int i = kept[k];
            result.Add((new SegmentedInstance(boxes[k * 4], boxes[k * 4 + 1], boxes[k * 4 + 2], boxes[k * 4 + 3],
                d.Scores[i], detections.MaskScores[i], config.CategoryIds[d.Labels[i]], rles[k]), i));
        }
        clock?.Lap(Stages.Paste);
        return result;
    }

    /// <summary>The flavour's batch-to-original scales (x, y).</summary>
    public (float X, float Y) Scales(ImageGeometry g) => config.Flavour.OutputScales(g);

    private static float Clip(float v, float hi) => v < 0 ? 0 : v > hi ? hi : v;
}
