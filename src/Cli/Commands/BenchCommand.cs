using System.CommandLine;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg bench ...`: performance measurements (kernels now; whole models to follow as `bench model`).</summary>
internal static class BenchCommand
{
    public static Command Create() =>
        new("bench", "Measure performance")
        {
            BenchKernelsCommand.Create(),
        };
}
