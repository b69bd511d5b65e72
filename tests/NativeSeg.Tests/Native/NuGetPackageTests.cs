using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace NativeSeg.Tests.Native;

/// <summary>
/// `dotnet pack src/Api` gives a NativeSeg package that a separate application (examples/csharp) restores
/// from a local folder feed and runs: its instances equal the C example's on the same image and model.
/// </summary>
public class NuGetPackageTests
{
    [NativeHostFact]
    public void AnApplicationUsingThePackageFindsWhatTheCExampleFinds()
    {
        string root = RepositoryRoot();
        using var temp = new Formats.TempFolder();
        string feed = temp.File("feed"), app = temp.File("app");
        Dotnet(root, "pack", Path.Combine(root, "src", "Api"), "-c", "Release", "--no-build", "-p:BuildProjectReferences=false", "-o", feed);
        Directory.CreateDirectory(app);
        foreach (string file in new[] { "SegmentImage.csproj", "Program.cs" })
            File.Copy(Path.Combine(root, "examples", "csharp", file), Path.Combine(app, file));
        File.WriteAllText(Path.Combine(app, "nuget.config"),
            $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><add key="local" value="{feed}" /></packageSources></configuration>""");
        // A private packages folder: the global one may hold an older NativeSeg of the same version.
        Dotnet(app, "build", "-c", "Release", "--packages", temp.File("packages"), "-o", temp.File("bin"));

        string png = ShapesImage.Write(temp, out _);
        string csharp = Dotnet(app, Path.Combine(temp.File("bin"), "SegmentImage.dll"), NativeHost.DefaultModel, png);
        var (code, c, error) = NativeHost.Run("segment_image", NativeHost.DefaultModel, png, "cpu");
        Assert.True(code == 0, error);
        InstanceLines.AssertSame(InstanceLines.Parse(c.Split('\n').Skip(1)), InstanceLines.Parse(csharp.Split('\n').Skip(1)));
    }

    private static string Dotnet(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        // The test host's MSBuild variables would point a nested build at the test run's own SDK state.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}\n{output}\n{error.Result}");
        return output;
    }

    private static string RepositoryRoot([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", ".."));
}
