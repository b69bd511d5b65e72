namespace NativeSeg.Kernels.BoundaryPatches;

/// <summary>Per-channel (R, G, B) mean and standard deviation on the 0–255 scale that image patches are normalised with.</summary>
public sealed record PatchNormalization(float[] Mean, float[] Std)
{
    /// <summary>1 / std, rounded to float as the device receives it.</summary>
    public float[] InverseStd => Std.Select(s => (float)(1.0 / s)).ToArray();
}
