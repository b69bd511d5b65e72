using NativeSeg.Engine.Native;

namespace NativeSeg.Tests.Cuda;

[Collection(EnvironmentCollection.Name)]
public sealed class LibraryProbeTests : IDisposable
{
    private static readonly NativeLibrarySpec Fake = new("fake", ["libnativeseg_fake.so.3", "libnativeseg_fake.so.2"]);

    private readonly TempFolder _empty = new();
    private readonly TempFolder _bogus = new();

    public void Dispose()
    {
        _empty.Dispose();
        _bogus.Dispose();
    }

    [Fact]
    public void MissingLibraryReportsEveryAttemptInOrder()
    {
        File.WriteAllText(Path.Combine(_bogus.Path, "libnativeseg_fake.so.2"), "not an ELF file");
        using var env = new ScopedEnvironment(LibraryProbe.PathVariable, $"{_empty.Path}:{_bogus.Path}");

        var result = LibraryProbe.Find(Fake);

        Assert.False(result.Found);
        Assert.Null(result.Path);
        var attempts = result.Attempts.Select(a => a.Candidate).ToArray();
        Assert.Equal(Path.Combine(_empty.Path, "libnativeseg_fake.so.3"), attempts[0]);
        Assert.Equal(Path.Combine(_empty.Path, "libnativeseg_fake.so.2"), attempts[1]);
        Assert.Equal(Path.Combine(_bogus.Path, "libnativeseg_fake.so.3"), attempts[2]);
        var bogus = result.Attempts[3];
        Assert.Equal(Path.Combine(_bogus.Path, "libnativeseg_fake.so.2"), bogus.Candidate);
        Assert.StartsWith("load failed: ", bogus.Outcome);
        Assert.Equal(["libnativeseg_fake.so.3", "libnativeseg_fake.so.2"], attempts[^2..]);
        Assert.Contains("/usr/lib/x86_64-linux-gnu/libnativeseg_fake.so.3", attempts);

        string message = new NativeLibraryMissingException(result).Message;
        Assert.Contains("libnativeseg_fake.so.3 / libnativeseg_fake.so.2 not found in", message);
        Assert.Contains(_empty.Path, message);
        Assert.Contains(_bogus.Path, message);
        Assert.Contains("default loader search", message);
        Assert.Contains(LibraryProbe.PathVariable, message);
        Assert.Contains($"; {bogus.Candidate}: load failed: ", message);
    }

    [Fact]
    public void FolderFromTheVariableWinsAndReportsTheFileItLoaded()
    {
        // libSystem.Native.so ships with every .NET runtime, so a copy stands in for a CUDA library here
        // (a copy, not a link: the loader would hand back the already-loaded original under its own name).
        string real = Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "libSystem.Native.so");
        string copy = Path.Combine(_bogus.Path, "libnativeseg_fake.so.2");
        File.Copy(real, copy);
        using var env = new ScopedEnvironment(LibraryProbe.PathVariable, _bogus.Path);

        var result = LibraryProbe.Find(Fake);

        Assert.True(result.Found);
        Assert.Equal(copy, result.Path);
        Assert.Equal([new ProbeAttempt(Path.Combine(_bogus.Path, "libnativeseg_fake.so.3"), "absent"), new ProbeAttempt(copy, "loaded")],
            result.Attempts);
    }

    [Theory]
    [InlineData("libx.so.1", "libx.so.1: cannot open shared object file: No such file or directory", "absent")]
    [InlineData("/d/libx.so.1", "/d/libx.so.1: file too short", "load failed: /d/libx.so.1: file too short")]
    [InlineData("libx.so.1", "libdep.so.2: cannot open shared object file: No such file or directory", "load failed: libdep.so.2: cannot open shared object file: No such file or directory")]
    public void OutcomeKeepsDlerrorsReasonAndDropsTheLoadersBoilerplate(string candidate, string dlerror, string expected)
    {
        // The shape of .NET's DllNotFoundException message on Linux: boilerplate, then dlerror's lines.
        string message = $"Unable to load shared library '{candidate}' or one of its dependencies. In order to help diagnose loading problems, "
            + $"consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: \n{dlerror}\n";
        Assert.Equal(expected, LibraryProbe.Outcome(candidate, message));
    }

    [Fact]
    public void FoldersPutTheVariableFirstAndDropEmptyEntries()
    {
        using var env = new ScopedEnvironment(LibraryProbe.PathVariable, $"/a::/b: ");
        var folders = LibraryProbe.Folders();
        Assert.Equal(["/a", "/b"], folders.Take(2));
        Assert.Contains("/usr/local/cuda/lib64", folders);
    }
}
