using System.CommandLine;
using NativeSeg.Cli.Parsing;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg kernels verify [--device cuda] [--filter S]`: runs every kernel check on the device and on
/// the CPU twin and prints their relative error; exit code 1 on any mismatch.
/// </summary>
internal static class KernelsVerifyCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cuda" }.Device();
        var filter = new Option<string?>("--filter") { Description = "only checks whose name contains this text" };
        var command = new Command("verify", "Check every CUDA kernel against its CPU twin") { device, filter };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            return Run(DeviceSelector.Select(parseResult.GetValue(device)!, config.Error), parseResult.GetValue(filter), config.Output, config.Error);
        });
        return command;
    }

    private static int Run(Device device, string? filter, TextWriter output, TextWriter error)
    {
        var checks = KernelChecks.All
            .Where(c => filter is null || c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase))
            .ToArray();
        if (checks.Length == 0)
        {
            error.WriteLine($"error: --filter '{filter}' matches no kernel check");
            return ExitCodes.Usage;
        }
        int width = Math.Max(5, checks.Max(c => c.Name.Length));
        output.WriteLine($"{"check".PadRight(width)}  {"rel. error",10}  {"tolerance",9}  result   (on {device})");
        int failed = 0;
        foreach (var check in checks)
        {
            var result = RunOne(check, device);
            if (!result.Passed) failed++;
            output.WriteLine($"{result.Name.PadRight(width)}  {result.RelativeError,10:0.00e+00}  {result.Tolerance,9:0.0e+00}  " +
                (result.Passed ? "ok" : "FAIL" + (result.Failure is null ? "" : $"   {result.Failure}")));
        }
        output.WriteLine($"{checks.Length - failed} of {checks.Length} checks passed");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>A check that throws is one failed row, not the end of the table.</summary>
    private static KernelCheckResult RunOne(KernelCheck check, Device device)
    {
        try
        {
            return KernelCheckRunner.Run(check, device);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new KernelCheckResult(check.Name, double.NaN, check.Tolerance, $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
