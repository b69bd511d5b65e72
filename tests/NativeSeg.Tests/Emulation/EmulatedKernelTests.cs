using NativeSeg.Kernels;

namespace NativeSeg.Tests.Emulation;

/// <summary>Every kernel check under emulation: each kernel's device code against its CPU twin.</summary>
public class EmulatedKernelTests
{
    public static TheoryData<string> CheckNames => new(EmulatedCheckResults.Names);

    [Theory]
    [MemberData(nameof(CheckNames))]
    public void KernelMatchesItsCpuTwin(string check)
    {
        var result = EmulatedCheckResults.Get(check);
        Assert.True(result.Passed, result.Failure is { } failure
            ? $"{check}: {failure}"
            : $"{check}: relative error {result.RelativeError:G3} exceeds the tolerance {result.Tolerance:G3}");
    }

    [Fact]
    public void EveryEntryPointOfEverySourceRan()
    {
        EmulatedCheckResults.All();
        var launched = EmulatedDevice.Runtime.Launched.ToHashSet();
        var never = KernelCatalog.All
            .SelectMany(s => KernelCatalog.EntryPoints(s).Select(e => (Source: s.Name, Entry: e)))
            .Where(k => !launched.Contains(k))
            .Select(k => $"{k.Source}:{k.Entry}")
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.True(never.Length == 0, $"no kernel check launched these kernels, so their device code never ran: {string.Join(", ", never)}");
    }
}
