namespace NativeSeg.Models.Fcos;

/// <summary>
/// FCOS inference settings as BCNet's configs set them (specs/bcnet.md §3.1, §5): levels P3–P7 with strides
/// 8–128, 80 classes (hard-coded upstream), candidates above <see cref="InferenceThreshold"/> on sigmoid(cls),
/// the <see cref="PreNmsTopN"/> best of each level by cls·ctr, class-aware NMS, then <see cref="DetectionsPerImage"/>.
/// </summary>
public sealed record FcosConfig(int Classes = 80, float InferenceThreshold = 0.03f, int PreNmsTopN = 1000,
    float NmsThreshold = 0.6f, int DetectionsPerImage = 100, int Channels = 256)
{
    public const int MinLevel = 3;

    public static IReadOnlyList<int> Strides { get; } = [8, 16, 32, 64, 128];

    public int Levels => Strides.Count;
}
