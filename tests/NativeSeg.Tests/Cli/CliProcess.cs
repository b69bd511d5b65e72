using System.Diagnostics;

namespace NativeSeg.Tests.Cli;

/// <summary>Runs the built nativeseg as a child process, for what in-process runs cannot show: the working folder, standard input and output.</summary>
internal static class CliProcess
{
    /// <summary><paramref name="executable"/>: another copy of the CLI than the test's own.</summary>
    public static async Task<(int Code, string Output, string Error)> RunAsync(string folder, string[] args, byte[]? standardInput = null, string? executable = null)
    {
        var start = new ProcessStartInfo(executable ?? Path.Combine(AppContext.BaseDirectory, "nativeseg"), args)
        {
            WorkingDirectory = folder, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        using (var stdin = process.StandardInput.BaseStream) await stdin.WriteAsync(standardInput ?? []);
        var error = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, output, await error);
    }
}
