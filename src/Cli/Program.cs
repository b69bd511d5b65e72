using System.CommandLine;
using NativeSeg.Cli.Commands;
using NativeSeg.Cli.Parsing;

namespace NativeSeg.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI with the given writers; the tests call this in-process.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("NativeSeg: occlusion-aware instance segmentation with native CUDA kernels. " + ExitCodes.Summary);
        foreach (var command in CommandList.All()) root.Subcommands.Add(command);
        try
        {
            var result = root.Parse(args);
            // --help and --version answer even an incomplete command line.
            if (result.Action is not { ClearsParseErrors: true } && CommandLineErrors.Of(result) is { Count: > 0 } errors)
            {
                foreach (string message in errors) error.WriteLine($"error: {message}");
                error.WriteLine($"run `{CommandLineErrors.CommandPath(result)} --help` for usage");
                return ExitCodes.Usage;
            }
            return result.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        // Host memory exhaustion is fatal; running out of GPU memory is an ordinary, reportable error.
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"error: {ErrorText.Of(e)}");
            return ExitCodes.Failure;
        }
    }
}
