using System.CommandLine;
using NativeSeg.Cli.Parsing;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Cuda;
using NativeSeg.Engine.Native;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg info`: the devices and every native library, found (path, version) or missing (where it looked).</summary>
internal static class InfoCommand
{
    private static readonly NativeLibrarySpec[] Libraries =
    [
        NativeLibrarySpec.CudaDriver, NativeLibrarySpec.Nvrtc, NativeLibrarySpec.Cublas, NativeLibrarySpec.Cudnn,
        NativeLibrarySpec.OpenBlas, NativeLibrarySpec.TurboJpeg, NativeLibrarySpec.Spng,
    ];

    public static Command Create()
    {
        var command = new Command("info", "List devices and the native libraries NativeSeg found (or where it looked)");
        command.SetAction(parseResult =>
        {
            Write(parseResult.InvocationConfiguration.Output);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Write(TextWriter output)
    {
        var probes = Libraries.Select(LibraryProbe.Find).ToArray();
        output.WriteLine("devices:");
        output.WriteLine($"  cpu ({CpuThreads.Count} threads)");
        // Where the driver was looked for is the CUDA driver line below; saying it twice only adds noise.
        if (!probes[Array.IndexOf(Libraries, NativeLibrarySpec.CudaDriver)].Found)
        {
            output.WriteLine("  cuda: none (no CUDA driver, see below)");
        }
        else
        {
            try
            {
                var devices = CudaDeviceInfo.All();
                if (devices.Count == 0) output.WriteLine("  cuda: the driver sees no device");
                foreach (var device in devices) output.WriteLine($"  {device}");
            }
            catch (CudaUnavailableException e)
            {
                output.WriteLine($"  cuda: none ({e.Reason})");
            }
        }

        output.WriteLine("libraries:");
        foreach (var probe in probes)
        {
            var spec = probe.Spec;
            string detail = probe.Found
                ? $"{probe.Path}{(LibraryVersion.Read(probe) is { } version ? $" ({version})" : "")}"
                : $"missing: {probe.DescribeMissing()}";
            output.WriteLine($"  {spec.DisplayName,-14} {detail}");
        }
        output.WriteLine($"library folders searched first: {string.Join(":", LibraryProbe.Folders())} (prepend with {LibraryProbe.PathVariable})");
        output.WriteLine($"kernel cache: {KernelCache.DefaultDirectory()}");
    }
}
