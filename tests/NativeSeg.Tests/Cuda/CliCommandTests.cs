using NativeSeg.Cli;
using NativeSeg.Engine.Native;
using NativeSeg.Kernels;
using NativeSeg.Tests.Cli;

namespace NativeSeg.Tests.Cuda;

[Collection(EnvironmentCollection.Name)]
public sealed class CliCommandTests : IDisposable
{
    private readonly TempFolder _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public void InfoListsDevicesAndEveryLibrary()
    {
        var (code, output, error) = CliRun.Run("info");
        Assert.True(code == 0, error);
        Assert.Contains("devices:", output);
        Assert.Contains("cpu (", output);
        foreach (string name in (string[])["CUDA driver", "NVRTC", "cuBLAS", "cuDNN", "OpenBLAS", "libjpeg-turbo", "libspng"])
            Assert.Contains(Environment.NewLine + "  " + name + " ", output);
        var nvrtc = LibraryProbe.Find(NativeLibrarySpec.Nvrtc);
        if (nvrtc.Found) Assert.Contains($"{nvrtc.Path} ({LibraryVersion.Read(nvrtc)})", output);
        else Assert.Contains("NVRTC          missing: libnvrtc.so.13", output);
    }

    [NoCudaDriverFact]
    public void InfoWithoutDriverSaysWhereItLookedOnceWithoutTheLoadersBoilerplate()
    {
        var (code, output, error) = CliRun.Run("info");
        Assert.True(code == 0, error);
        Assert.Single(output.Split(Environment.NewLine), line => line.Contains("libcuda.so.1", StringComparison.Ordinal));
        Assert.Contains("  cuda: none (no CUDA driver, see below)", output);
        Assert.DoesNotContain("LD_DEBUG", output);
        Assert.Contains(LibraryProbe.PathVariable, output);
    }

    [NvrtcFact]
    public void KernelsCompileCompilesEveryCatalogSource()
    {
        using var env = new ScopedEnvironment("NATIVESEG_KERNEL_CACHE", _cache.Path);
        var (code, output, error) = CliRun.Run("kernels", "compile", "--arch", "sm_90");
        Assert.True(code == 0, error);
        foreach (var source in KernelCatalog.All)
            Assert.Contains(source.Name, output);
        Assert.Contains($"{KernelCatalog.All.Count} sources compiled", output);
        Assert.NotEmpty(Directory.GetFiles(_cache.Path, "*.cubin"));
    }

    [NvrtcFact]
    public void KernelsCompileFailsForAnArchitectureNvrtcLacks()
    {
        using var env = new ScopedEnvironment("NATIVESEG_KERNEL_CACHE", _cache.Path);
        var (code, _, error) = CliRun.Run("kernels", "compile", "--arch", "sm_1");
        Assert.Equal(1, code);
        Assert.Contains("nvrtcCompileProgram failed", error);
    }

    [Fact]
    public void KernelsVerifyOnTheCpuPrintsATableThatPasses()
    {
        var (code, output, error) = CliRun.Run("kernels", "verify", "--device", "cpu", "--filter", "relu/");
        Assert.True(code == 0, output + error);
        Assert.Matches(@"relu/odd-size\s+0\.00e\+00\s+1\.0e-04\s+ok", output);
        Assert.DoesNotContain("sigmoid", output);
    }

    [Fact]
    public void KernelsVerifyWithAFilterMatchingNothingIsAUsageError()
    {
        var (code, _, error) = CliRun.Run("kernels", "verify", "--device", "cpu", "--filter", "no-such-check");
        Assert.Equal(2, code);
        Assert.Contains("--filter 'no-such-check' matches no kernel check", error);
    }

    [NoCudaDriverFact]
    public void KernelsVerifyOnCudaWithoutDriverFailsNamingTheLibrary()
    {
        var (code, _, error) = CliRun.Run("kernels", "verify", "--device", "cuda");
        Assert.Equal(1, code);
        Assert.Contains("libcuda.so.1 not found", error);
    }
}
