using System.CommandLine;

namespace NativeSeg.Cli.Commands;

/// <summary>The top-level commands, in the order `nativeseg --help` lists them.</summary>
internal static class CommandList
{
    public static IEnumerable<Command> All() =>
    [
        InfoCommand.Create(),
        KernelsCommand.Create(),
        BenchCommand.Create(),
        EvalCommand.Create(),
        SynthCommand.Create(),
        ConvertCommand.Create(),
        InitCommand.Create(),
        SegmentCommand.Create(),
        RefineCommand.Create(),
        MergeCommand.Create(),
        TrainCommand.Create(),
    ];
}
