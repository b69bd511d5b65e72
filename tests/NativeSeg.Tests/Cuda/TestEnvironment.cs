using NativeSeg.Engine.Native;

namespace NativeSeg.Tests.Cuda;

/// <summary>
/// Tests that set process environment variables (library path, kernel cache) run in this collection,
/// alone, so no other test sees their values.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "process environment";
}

/// <summary>Sets an environment variable for the lifetime of the object, then restores it.</summary>
internal sealed class ScopedEnvironment : IDisposable
{
    private readonly string _name;
    private readonly string? _previous;

    public ScopedEnvironment(string name, string? value)
    {
        _name = name;
        _previous = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
}

/// <summary>A scratch folder deleted with its contents at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nativeseg-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>
/// A test that needs NVRTC. Where NVRTC cannot be loaded it is skipped, except under CI=true, where the
/// build machine is meant to have it: there it runs and fails with the probe's explanation.
/// </summary>
public sealed class NvrtcFactAttribute : FactAttribute
{
    public NvrtcFactAttribute()
    {
        var probe = LibraryProbe.Find(NativeLibrarySpec.Nvrtc);
        if (!probe.Found && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Skip = $"NVRTC not loadable ({probe.DescribeMissing()}); under CI=true this fails instead";
    }
}

/// <summary>A test of the behaviour on a machine without the CUDA driver; skipped where libcuda.so.1 is present.</summary>
public sealed class NoCudaDriverFactAttribute : FactAttribute
{
    public NoCudaDriverFactAttribute()
    {
        var probe = LibraryProbe.Find(NativeLibrarySpec.CudaDriver);
        if (probe.Found) Skip = $"a CUDA driver is installed here ({probe.Path})";
    }
}
