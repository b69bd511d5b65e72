using System.Collections.Concurrent;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// Each kernel check run once per test run on the shared emulated device, whichever test asks first.
/// The first request also starts compiling every kernel source in the background (two at a time), so
/// the compiles overlap the checks instead of queueing behind them.
/// </summary>
internal static class EmulatedCheckResults
{
    private static readonly IReadOnlyDictionary<string, KernelCheck> Checks = ByName();
    private static readonly ConcurrentDictionary<string, Lazy<KernelCheckResult>> Results = new();
    private static readonly Lazy<Task> Prebuild = new(() => Task.Run(() => Parallel.ForEach(
        KernelCatalog.All, new ParallelOptions { MaxDegreeOfParallelism = 2 }, BuildQuietly)));

    public static IEnumerable<string> Names => Checks.Keys;

    public static KernelCheckResult Get(string name)
    {
        _ = Prebuild.Value;
        var check = Checks[name];
        return Results.GetOrAdd(name, _ => new Lazy<KernelCheckResult>(() => Run(check))).Value;
    }

    public static IReadOnlyList<KernelCheckResult> All() => Checks.Keys.Select(Get).ToArray();

    private static KernelCheckResult Run(KernelCheck check)
    {
        try
        {
            return KernelCheckRunner.Run(check, EmulatedDevice.Device);
        }
        catch (Exception e)
        {
            return new KernelCheckResult(check.Name, double.NaN, check.Tolerance, e.ToString());
        }
    }

    // A source that does not compile is reported by the checks that use it, with g++'s output.
    private static void BuildQuietly(KernelSource source)
    {
        try
        {
            EmulationCompiler.Build(source);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static IReadOnlyDictionary<string, KernelCheck> ByName()
    {
        var duplicates = KernelChecks.All.GroupBy(c => c.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        if (duplicates.Length > 0) throw new InvalidOperationException($"kernel check names must be unique: {string.Join(", ", duplicates)}");
        return KernelChecks.All.ToDictionary(c => c.Name);
    }
}
