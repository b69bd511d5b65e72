namespace NativeSeg.Layers;

/// <summary>
/// The geometry of a square-kernel convolution as a checkpoint stores it: weight [Out, In/Groups, Kernel, Kernel],
/// plus a [Out] bias when <see cref="Bias"/> is set. <see cref="Relu"/> fuses the activation that follows.
/// </summary>
public sealed record ConvSpec(int InChannels, int OutChannels, int Kernel, int Stride = 1, int Padding = 0, bool Relu = false, bool Bias = false, int Groups = 1)
{
    /// <summary>A k×k conv with torch's "same" padding for odd k (k / 2).</summary>
    public static ConvSpec Same(int inChannels, int outChannels, int kernel, int stride = 1, bool relu = false, bool bias = false) =>
        new(inChannels, outChannels, kernel, stride, kernel / 2, relu, bias);
}

/// <summary>
/// A BatchNorm stored under <paramref name="Prefix"/> as <c>weight</c>, <c>bias</c>, <c>running_mean</c>,
/// <c>running_var</c>, applied in eval mode as (x − mean)/√(var + eps)·weight + bias. <paramref name="Eps"/> is the
/// checkpoint's convention: 1e-5 for detectron2 and torchvision's BatchNorm2d, 0 for maskrcnn-benchmark and
/// torchvision's COCO weights. <paramref name="Trains"/>: a <see cref="BatchNorm2d"/> whose weight and bias are
/// trained and which can normalise with batch statistics, rather than a <see cref="FrozenBatchNorm2d"/>.
/// </summary>
public sealed record BatchNormSpec(string Prefix, double Eps, bool Trains = false);
