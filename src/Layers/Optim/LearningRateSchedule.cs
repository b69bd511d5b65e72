namespace NativeSeg.Layers.Optim;

/// <summary>
/// Linear warmup then step decay, as detectron2's WarmupMultiStepLR and torchvision's reference recipe
/// (LinearLR start_factor then MultiStepLR) compute it: at iteration i (0-based) before <see cref="WarmupIters"/>,
/// lr·(f·(1 − i/W) + i/W); after, lr·γ^(number of steps ≤ i).
/// </summary>
public sealed record LearningRateSchedule(float BaseLr, int WarmupIters = 0, float WarmupFactor = 0.001f, IReadOnlyList<int>? Steps = null, float Gamma = 0.1f)
{
    public float At(int iteration)
    {
        if (iteration < 0) throw new ArgumentOutOfRangeException(nameof(iteration), $"learning rate: iteration {iteration} is negative");
        double lr = BaseLr * Math.Pow(Gamma, (Steps ?? []).Count(s => s <= iteration));
        if (iteration < WarmupIters)
        {
            double alpha = (double)iteration / WarmupIters;
            lr *= WarmupFactor * (1 - alpha) + alpha;
        }
        return (float)lr;
    }
}
