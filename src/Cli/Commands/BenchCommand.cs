using System.CommandLine;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg bench ...`: performance measurements of single kernels and of whole models.</summary>
internal static class BenchCommand
{
    public static Command Create() =>
        new("bench", "Measure performance")
        {
            BenchKernelsCommand.Create(),
            BenchModelCommand.Create(),
            BenchTrainCommand.Create(),
        };
}
