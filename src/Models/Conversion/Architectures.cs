namespace NativeSeg.Models.Conversion;

/// <summary>The architectures <c>nativeseg convert</c> knows by name.</summary>
public static class Architectures
{
    public static IReadOnlyList<IArchitecture> All { get; } =
    [
        new KeyListArchitecture("bpr_hr18s", "keys_hr18s.txt", "bpr", key => key),
        new KeyListArchitecture("bpr_hr48", "keys_hr48.txt", "bpr", key => key),
        .. MaskRcnn.MaskRcnnArchitecture.All,
        .. Bcnet.BcnetArchitecture.All,
        .. BlendMask.BlendMaskArchitecture.All,
    ];

    public static IArchitecture Find(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new ArgumentException($"unknown architecture '{name}'; known: {string.Join(", ", All.Select(a => a.Name))}");
}
