namespace NativeSeg.Layers.Backbones;

/// <summary>One HRNet stage: <paramref name="Modules"/> HR modules of <paramref name="Blocks"/> basic blocks per branch.</summary>
public sealed record HrNetStage(int Modules, int Blocks, int[] Widths);

/// <summary>
/// The shape of an mmseg HRNet: stage 1 is <see cref="Bottlenecks"/> bottlenecks (64 planes, 256 out) and
/// stages 2–4 add one branch each at half the resolution. Every module outputs every branch.
/// </summary>
public sealed record HrNetConfig(int Bottlenecks, HrNetStage[] Stages)
{
    /// <summary>mmseg's <c>hr18s</c> (HRNetV2-W18-Small).</summary>
    public static HrNetConfig W18Small { get; } = new(2,
        [new(1, 2, [18, 36]), new(3, 2, [18, 36, 72]), new(2, 2, [18, 36, 72, 144])]);

    /// <summary>mmseg's <c>hr48</c> (HRNetV2-W48).</summary>
    public static HrNetConfig W48 { get; } = new(4,
        [new(1, 4, [48, 96]), new(4, 4, [48, 96, 192]), new(3, 4, [48, 96, 192, 384])]);

    /// <summary>The last stage's branch widths, whose sum a head over all branches sees.</summary>
    public int[] OutputWidths => Stages[^1].Widths;
}
