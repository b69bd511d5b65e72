using NativeSeg.Models.Bcnet;
using NativeSeg.Models.BlendMask;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Registry;

namespace NativeSeg.Tests.Models;

/// <summary>The one registry serves both `convert` and loading, with one entry per architecture.</summary>
public class ArchitectureRegistryTests
{
    [Fact]
    public void EachArchitectureIsRegisteredOnce() =>
        Assert.Empty(Architectures.Registered.GroupBy(r => r.Name).Where(g => g.Count() > 1).Select(g => g.Key));

    [Fact]
    public void ConvertAndLoadingSeeTheSameArchitectures()
    {
        Assert.Equal(Architectures.Registered.Select(r => r.Name), Architectures.All.Select(a => a.Name));
        Assert.Equal(MaskRcnnArchitectures.Names.Concat(BcnetArchitecture.Names).Concat(BlendMaskArchitecture.Names).Order(StringComparer.Ordinal),
            Architectures.Runnable.Order(StringComparer.Ordinal));
        Assert.Null(Architectures.Loader("bpr_hr18s"));
    }
}
