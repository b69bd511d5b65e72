namespace NativeSeg.Kernels;

/// <summary>Every kernel benchmark, listed explicitly (as <see cref="KernelChecks"/>) so a trimmed publish keeps them all.</summary>
public static class KernelBenchmarks
{
    public static IReadOnlyList<KernelBenchmark> All { get; } =
    [
        new Convolution.Conv2dBenchmark(),
        new DeformConv2d.DeformConv2dBenchmark(),
        new Blend.SoftmaxBlendBenchmark(),
        new Convolution.Conv2dBackwardBenchmark(),
        new Convolution.ConvTranspose2dBenchmark(),
        new Dense.LinearBenchmark(),
        new Activations.ReluBenchmark(),
        new Activations.ReluBenchmark(backward: true),
        new Activations.ScoreActivationBenchmark(),
        new Activations.ScoreActivationBenchmark(sqrt: true),
        new Elementwise.ElementwiseBenchmark(),
        new Conversion.CastBenchmark(),
        new Pixels.NormalisePixelsBenchmark(),
        new Normalization.GroupNormBenchmark(),
        new Normalization.GroupNormBackwardBenchmark(),
        new Normalization.BatchNormBenchmark(),
        new Normalization.BatchNormBenchmark(backward: true),
        new Pooling.MaxPoolBenchmark(),
        new Pooling.MaxPoolBackwardBenchmark(),
        new Resampling.ResizeBenchmark(),
        new Resampling.NearestBackwardBenchmark(),
        new Resampling.BilinearBackwardBenchmark(),
        new Softmax.SoftmaxBenchmark(),
        new Selection.TopKBenchmark(),
        new Transpose.TransposeBenchmark(),
        new Candidates.CandidatesBenchmark(),
        new Indexing.IndexingBenchmark(),
        new BoxCoder.BoxCoderBenchmark(),
        new BoxIou.BoxIouBenchmark(),
        new RoiAlign.RoiLevelsBenchmark(),
        new RoiAlign.RoiAlignBenchmark(),
        new RoiAlign.RoiAlignBackwardBenchmark(),
        new Nms.NmsBenchmark(),
        new MaskPaste.MaskPasteBenchmark(),
        new MaskPaste.MaskProbabilitiesBenchmark(),
        new MaskPaste.MaskBitsBenchmark(),
        new BoundaryPatches.BoundaryPatchesBenchmark(),
        new NonLocalAttention.NonLocalAttentionBenchmark(),
        new Losses.LossBenchmark(),
        new Optimizer.OptimizerBenchmark(),
    ];
}
