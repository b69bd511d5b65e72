namespace NativeSeg.Kernels.Losses;

/// <summary>
/// How a loss folds its terms into one value; every loss also takes a <c>scale</c> that multiplies both the
/// loss and its gradient. Detection losses divide a sum by a count computed elsewhere (torchvision's box
/// loss by the number of sampled RoIs): pass <see cref="Sum"/> with scale = 1 / count.
/// </summary>
public enum LossReduction
{
    /// <summary>scale · Σ terms / count, as torch's default "mean". An empty mean is NaN, as in torch.</summary>
    Mean,

    /// <summary>scale · Σ terms; 0 when there are no terms.</summary>
    Sum,
}
