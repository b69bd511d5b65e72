using NativeSeg.Fuzz.Targets;

namespace NativeSeg.Fuzz;

public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new PickleZipTarget(), new SafetensorsTarget(), new PngTarget(), new JpegTarget(),
        new CocoAnnotationsTarget(), new CocoResultsTarget(), new RleTarget(),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
