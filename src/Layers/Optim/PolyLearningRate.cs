namespace NativeSeg.Layers.Optim;

/// <summary>
/// mmcv's poly schedule by iteration (PolyLrUpdaterHook, by_epoch false), as mmseg's schedules use it: at iteration i
/// (0-based) of <see cref="Iterations"/>, (lr − min_lr)·(1 − i/Iterations)^power + min_lr.
/// </summary>
public sealed record PolyLearningRate(float BaseLr, int Iterations, float Power = 0.9f, float MinLr = 1e-4f)
{
    public float At(int iteration)
    {
        if (iteration < 0) throw new ArgumentOutOfRangeException(nameof(iteration), $"learning rate: iteration {iteration} is negative");
        double progress = Math.Min(1.0, (double)iteration / Iterations);
        return (float)((BaseLr - MinLr) * Math.Pow(1 - progress, Power) + MinLr);
    }
}
