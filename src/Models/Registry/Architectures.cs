using NativeSeg.Models.Bcnet;
using NativeSeg.Models.BlendMask;
using NativeSeg.Models.Bpr;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Models.Registry;

/// <summary>Opens a converted model file of one architecture for inference.</summary>
public delegate IInstanceSegmenter ModelLoader(string path, SegmenterOptions options);

/// <summary>One architecture: what `convert` checks a checkpoint against and, once the family runs, how to load it.</summary>
public sealed record RegisteredArchitecture(IArchitecture Architecture, ModelLoader? Load = null)
{
    public string Name => Architecture.Name;
}

/// <summary>
/// Every architecture NativeSeg knows, for `convert` and for loading: the one place that sees every family, so no
/// family needs another. A family registers here with one line.
/// </summary>
public static class Architectures
{
    public static IReadOnlyList<RegisteredArchitecture> Registered { get; } =
    [
        .. BprConfig.All.Select(c => new RegisteredArchitecture(new KeyListArchitecture(c.Architecture, c.KeyList, "bpr", key => key))),
        .. Family(MaskRcnnArchitecture.All, (path, options) => MaskRcnn.MaskRcnn.Load(path, options.Device, options.ScoreThreshold, options.Precision)),
        .. Family(BcnetArchitecture.All, (path, options) => Bcnet.Bcnet.Load(path, options.Device, options.ScoreThreshold, options.Precision)),
        .. Family(BlendMaskArchitecture.All, (path, options) => BlendMask.BlendMask.Load(path, options.Device, options.ScoreThreshold, options.Precision)),
    ];

    /// <summary>What `convert` recognises checkpoints among.</summary>
    public static IReadOnlyList<IArchitecture> All { get; } = [.. Registered.Select(r => r.Architecture)];

    /// <summary>The architectures a converted file may declare and be run.</summary>
    public static IEnumerable<string> Runnable => Registered.Where(r => r.Load is not null).Select(r => r.Name);

    public static IArchitecture Find(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new ArgumentException($"unknown architecture '{name}'; known: {string.Join(", ", All.Select(a => a.Name))}");

    /// <summary>The loader of a runnable architecture, or null when no runner takes it (yet).</summary>
    public static ModelLoader? Loader(string name) => Registered.FirstOrDefault(r => r.Name == name)?.Load;

    private static IEnumerable<RegisteredArchitecture> Family(IEnumerable<IArchitecture> architectures, ModelLoader load) =>
        architectures.Select(a => new RegisteredArchitecture(a, load));
}
