namespace NativeSeg.Kernels;

/// <summary>Every kernel check, listed explicitly so a trimmed publish keeps them all.</summary>
public static class KernelChecks
{
    public static IReadOnlyList<KernelCheck> All { get; } =
    [
        .. Activations.ActivationChecks.All,
        .. Convolution.Conv2dChecks.All,
        .. DeformConv2d.DeformConv2dChecks.All,
        .. Blend.SoftmaxBlendChecks.All,
        .. Convolution.ConvTranspose2dChecks.All,
        .. Dense.LinearChecks.All,
        .. RoiAlign.RoiAlignChecks.All,
        .. Nms.NmsChecks.All,
        .. BoxCoder.BoxCoderChecks.All,
        .. BoxIou.BoxIouChecks.All,
        .. MaskPaste.MaskPasteChecks.All,
        .. MaskRle.MaskRleChecks.All,
        .. BoundaryPatches.BoundaryPatchesChecks.All,
        .. Normalization.NormalizationChecks.All,
        .. Normalization.BatchNormChecks.All,
        .. Pooling.PoolingChecks.All,
        .. Resampling.ResamplingChecks.All,
        .. Resampling.FixedPointResampleChecks.All,
        .. Softmax.SoftmaxChecks.All,
        .. Elementwise.ElementwiseChecks.All,
        .. Selection.SelectionChecks.All,
        .. Transpose.TransposeChecks.All,
        .. Candidates.CandidatesChecks.All,
        .. Indexing.IndexingChecks.All,
        .. Conversion.ConversionChecks.All,
        .. Pixels.PixelsChecks.All,
        .. NonLocalAttention.NonLocalAttentionChecks.All,
        .. Optimizer.OptimizerChecks.All,
        .. Losses.LossesChecks.All,
    ];
}
