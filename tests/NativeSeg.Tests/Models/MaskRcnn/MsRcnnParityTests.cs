using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Mask Scoring R-CNN's mask and MaskIoU heads against the PyTorch reimplementation of spec §3 in
/// tests/reference/make_maskrcnn_fixtures.py: maskrcnn-benchmark names, level rule and legacy RoIAlign.
/// </summary>
public class MsRcnnParityTests
{
    [Fact]
    public void MaskScoresMatchTheReimplementation()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_msrcnn.safetensors"));
        var meta = file.Metadata;
        var weights = HashedWeights.LoadAll(meta, "rpn.", "roi_heads.");
        var maps = new[] { "p2", "p3", "p4", "p5" }.Select(n => HashedWeights.Load(meta, "feature." + n)).ToList();
        maps.Add(MaxPool.Forward2d(maps[3], 1, 2));
        try
        {
            var store = new ParameterStore(weights, Device.Cpu);
            using var heads = new MaskRcnnHeads(store, MaskRcnnConfig.MsRcnnCoco());
            Assert.Empty(store.Unused());
            using var boxes = file.Load("boxes");
            using var labels = file.Load("labels");
            using var scores = file.Load("scores");
            var detections = new Detections(boxes.AsSpan<float>().ToArray(), scores.AsSpan<float>().ToArray(),
                labels.AsSpan<long>().ToArray().Select(l => (int)l).ToArray());
            var result = heads.PredictMasks(maps, [detections])[0];

            using var probs = file.Load("mask_probs");
            using var maskScores = file.Load("mask_scores");
            var expectedProbs = probs.AsSpan<float>();
            for (int i = 0; i < expectedProbs.Length; i++)
                Assert.True(Math.Abs(expectedProbs[i] - result.MaskProbs[i]) <= 1e-4f, $"mask prob {i}: reference {expectedProbs[i]}, ours {result.MaskProbs[i]}");
            var expectedScores = maskScores.AsSpan<float>();
            Assert.Equal(expectedScores.Length, result.MaskScores.Length);
            for (int i = 0; i < expectedScores.Length; i++)
                Assert.True(Math.Abs(expectedScores[i] - result.MaskScores[i]) <= 1e-4f, $"mask score {i}: reference {expectedScores[i]}, ours {result.MaskScores[i]}");
        }
        finally
        {
            foreach (var w in weights.Values) w.Dispose();
            foreach (var m in maps) m.Dispose();
        }
    }
}
