namespace NativeSeg.Tests.Formats;

/// <summary>The committed fixtures from tests/reference/fixtures, copied next to the test binary by the project file.</summary>
internal static class FixturePaths
{
    public static string Fixture(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", name);
        if (!File.Exists(path))
            throw new FileNotFoundException($"fixture {name} not found in {Path.GetDirectoryName(path)}; run the scripts in tests/reference");
        return path;
    }
}

/// <summary>A scratch folder deleted after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nativeseg-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
