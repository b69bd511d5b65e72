using System.CommandLine;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg kernels ...`: work on the CUDA kernel sources themselves.</summary>
internal static class KernelsCommand
{
    public static Command Create() =>
        new("kernels", "Compile and verify the CUDA kernels")
        {
            KernelsCompileCommand.Create(),
            KernelsVerifyCommand.Create(),
        };
}
