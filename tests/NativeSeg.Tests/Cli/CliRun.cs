using NativeSeg.Cli;

namespace NativeSeg.Tests.Cli;

/// <summary>Runs the CLI in-process as a user would, capturing what it prints.</summary>
internal static class CliRun
{
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
