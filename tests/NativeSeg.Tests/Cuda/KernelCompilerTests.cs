using System.Text;
using NativeSeg.Engine.Cuda;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Tests.Cuda;

public sealed class KernelCompilerTests : IDisposable
{
    private static readonly byte[] ElfMagic = [0x7f, (byte)'E', (byte)'L', (byte)'F'];

    private readonly TempFolder _cache = new();

    public void Dispose() => _cache.Dispose();

    private KernelCompiler Compiler() => new(Nvrtc.Load(), new KernelCache(_cache.Path));

    [NvrtcFact]
    public void EveryCatalogKernelCompilesForSm90WithItsEntryPoints()
    {
        var compiler = Compiler();
        Assert.NotEmpty(KernelCatalog.All);
        foreach (var source in KernelCatalog.All)
        {
            var compiled = compiler.Compile(source, "sm_90");
            Assert.True(compiled.Cubin.AsSpan().StartsWith(ElfMagic), $"{source.Name}: not an ELF CUBIN");
            var entryPoints = KernelCatalog.EntryPoints(source);
            Assert.NotEmpty(entryPoints);
            foreach (string entry in entryPoints)
                Assert.True(compiled.Cubin.AsSpan().IndexOf(Encoding.ASCII.GetBytes(entry + "\0")) >= 0, $"{source.Name}: no symbol {entry}");
        }
    }

    [NvrtcFact]
    public void SecondCompileComesFromTheCache()
    {
        var compiler = Compiler();
        var source = KernelCatalog.Get("Activations/Activations.cu");
        var first = compiler.Compile(source, "sm_90");
        var second = compiler.Compile(source, "sm_90");
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.CachePath, second.CachePath);
        Assert.Equal(first.Cubin, second.Cubin);
    }

    [NvrtcFact]
    public void ArchitectureAndOptionsAreOwnCacheKeys()
    {
        var compiler = Compiler();
        var source = KernelCatalog.Get("Activations/Activations.cu");
        var sm90 = compiler.Compile(source, "sm_90");
        var sm80 = compiler.Compile(source, "sm_80");
        var lineInfo = compiler.Compile(source, "sm_90", ["-lineinfo"]);
        Assert.Equal(3, new[] { sm90.CachePath, sm80.CachePath, lineInfo.CachePath }.Distinct().Count());
        Assert.False(sm80.FromCache);
        Assert.False(lineInfo.FromCache);
        Assert.NotEqual(sm90.Cubin, sm80.Cubin);
    }

    [NvrtcFact]
    public void CorruptCacheFileIsIgnoredAndRewritten()
    {
        var compiler = Compiler();
        var source = KernelCatalog.Get("Activations/Activations.cu");
        var original = compiler.Compile(source, "sm_90");
        byte[] file = File.ReadAllBytes(original.CachePath);
        file[^10] ^= 0xFF;
        File.WriteAllBytes(original.CachePath, file);

        var recompiled = compiler.Compile(source, "sm_90");
        Assert.False(recompiled.FromCache);
        Assert.Equal(original.Cubin, recompiled.Cubin);
        Assert.True(compiler.Compile(source, "sm_90").FromCache);
    }

    [NvrtcFact]
    public void CompileErrorNamesTheSourceAndCarriesNvrtcLog()
    {
        var broken = new KernelSource("Broken/Broken.cu",
            "#include \"nativeseg.cuh\"\nextern \"C\" __global__ void k(float* x) { x[0] = not_declared_anywhere; }\n",
            KernelCatalog.Get("Activations/Activations.cu").Headers);
        var e = Assert.Throws<CudaException>(() => Compiler().Compile(broken, "sm_90"));
        Assert.Equal("nvrtcCompileProgram", e.Call);
        Assert.Contains("Broken/Broken.cu", e.Message);
        Assert.Contains("not_declared_anywhere", e.Message);
        Assert.Contains("NVRTC_ERROR_COMPILATION", e.Message);
        Assert.Empty(Directory.GetFiles(_cache.Path));
    }

    [NvrtcFact]
    public void ArchitectureForPicksTheBestCubinTheDeviceCanRun()
    {
        var compiler = Compiler();
        Assert.Equal("sm_90", compiler.ArchitectureFor(9, 0));
        Assert.Equal("sm_86", compiler.ArchitectureFor(8, 6));
        var e = Assert.Throws<CudaUnavailableException>(() => compiler.ArchitectureFor(1, 0));
        Assert.Contains("sm_10", e.Message);
    }
}
