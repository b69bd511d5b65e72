namespace NativeSeg.Models.Conversion;

/// <summary>The architectures <c>nativeseg convert</c> knows by name.</summary>
public static class Architectures
{
    public static IReadOnlyList<IArchitecture> All { get; } =
    [
        BlendMask("blendmask_R_50_1x", "keys_blendmask_R_50_1x.txt"),
        BlendMask("blendmask_R_101_dcni3_5x", "keys_blendmask_R_101_dcni3_5x.txt"),
        BlendMask("blendmask_550_R_50_3x", "keys_blendmask_550_R_50_3x.txt"),
        new KeyListArchitecture("bpr-hr18s", "keys_hr18s.txt", "bpr", key => key),
        new KeyListArchitecture("bpr-hr48", "keys_hr48.txt", "bpr", key => key),
        .. MaskRcnn.MaskRcnnArchitecture.All,
        .. Bcnet.BcnetArchitecture.All,
    ];

    public static IArchitecture Find(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new ArgumentException($"unknown architecture '{name}'; known: {string.Join(", ", All.Select(a => a.Name))}");

    // AdelaiDet renamed FCOS's centerness branch to ctrness after the first BlendMask release; older
    // checkpoints still use the old name.
    private static KeyListArchitecture BlendMask(string name, string keyList) =>
        new(name, keyList, "blendmask", key => key.StartsWith("proposal_generator.fcos_head.centerness.", StringComparison.Ordinal)
            ? "proposal_generator.fcos_head.ctrness." + key["proposal_generator.fcos_head.centerness.".Length..]
            : key);
}
