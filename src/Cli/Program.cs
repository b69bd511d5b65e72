using System.CommandLine;
using NativeSeg.Cli.Commands;

namespace NativeSeg.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI with the given writers; the tests call this in-process.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("NativeSeg: occlusion-aware instance segmentation with native CUDA kernels");
        foreach (var command in CommandList.All()) root.Subcommands.Add(command);
        try
        {
            var result = root.Parse(args);
            return result.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        // Host memory exhaustion is fatal; running out of GPU memory is an ordinary, reportable error.
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
