using System.CommandLine;
using NativeSeg.Cli.Parsing;
using System.Diagnostics;
using NativeSeg.Engine.Cuda;
using NativeSeg.Kernels;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg kernels compile [--arch sm_90]`: every catalog source through NVRTC (no GPU needed), one
/// line per source; non-zero exit if any fails, with NVRTC's log.
/// </summary>
internal static class KernelsCompileCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "target architecture, sm_NN or compute_NN", DefaultValueFactory = _ => "sm_90" }
            .Must(a => System.Text.RegularExpressions.Regex.IsMatch(a, "^(sm|compute)_[0-9]+[a-z]?$"), "sm_NN or compute_NN, e.g. sm_90");
        var command = new Command("compile", "Compile every CUDA kernel source with NVRTC") { arch };
        command.SetAction(parseResult => Run(parseResult.GetValue(arch)!, parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string architecture, TextWriter output, TextWriter error)
    {
        var nvrtc = Nvrtc.Load();
        var compiler = new KernelCompiler(nvrtc, new KernelCache(KernelCache.DefaultDirectory()));
        output.WriteLine($"NVRTC {nvrtc.Version} ({nvrtc.Library.Path}), {architecture}, cache {compiler.Cache.Directory}");
        int failures = 0;
        foreach (var source in KernelCatalog.All.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var compiled = compiler.Compile(source, architecture);
                output.WriteLine($"  {source.Name,-40} {compiled.Cubin.Length,8:N0} bytes {clock.Elapsed.TotalMilliseconds,8:F0} ms" +
                    $"{(compiled.FromCache ? " (cached)" : "")}  {string.Join(", ", KernelCatalog.EntryPoints(source))}");
            }
            catch (CudaException e)
            {
                failures++;
                error.WriteLine($"  {source.Name}: {e.Message}");
            }
        }
        output.WriteLine(failures == 0 ? $"{KernelCatalog.All.Count} sources compiled" : $"{failures} of {KernelCatalog.All.Count} sources failed");
        return failures == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
