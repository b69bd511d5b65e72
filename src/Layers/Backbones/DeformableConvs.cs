namespace NativeSeg.Layers.Backbones;

/// <summary>
/// Which bottleneck 3×3 convs are deformable, as detectron2's RESNETS.DEFORM_ON_PER_STAGE and DEFORM_MODULATED and
/// AdelaiDet's DEFORM_INTERVAL configure them: in a stage that is on, block i is deformable when
/// i % <paramref name="Interval"/> == 0 (every block at interval 1). Modulated convs (DCNv2) also predict a mask per tap.
/// </summary>
/// <param name="OnPerStage">res2..res5.</param>
public sealed record DeformableConvs(IReadOnlyList<bool> OnPerStage, int Interval, bool Modulated)
{
    public bool Applies(int stage, int block)
    {
        if (OnPerStage.Count != 4) throw new ArgumentException($"backbone: DEFORM_ON_PER_STAGE needs 4 entries (res2..res5), got {OnPerStage.Count}");
        if (Interval < 1) throw new ArgumentException($"backbone: DEFORM_INTERVAL must be at least 1, got {Interval}");
        return OnPerStage[stage - 2] && block % Interval == 0;
    }
}
