namespace NativeSeg.Cli.Parsing;

/// <summary>"-" in place of a path: standard input for an image, standard output for a results file.</summary>
internal static class StandardStreams
{
    public const string Name = "-";
}
