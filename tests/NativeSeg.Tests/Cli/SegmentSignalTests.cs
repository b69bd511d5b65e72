using System.Diagnostics;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// SIGTERM in the middle of `segment`, as a scheduler or container stop sends it. kill() from the test host does
/// not reach a child here, so a bash script starts nativeseg, waits for its first finished image and signals it.
/// </summary>
public class SegmentSignalTests
{
    [Fact]
    public void SigtermWritesTheFinishedImagesAndResumeDoesTheRest()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, CliRun.Run("synth", "--out", temp.File("data"), "--images", "30", "--size", "160x128", "--instances", "4", "--seed", "3").Code);
        string app = Path.Combine(AppContext.BaseDirectory, "nativeseg"), images = temp.File("data/images"), outDir = temp.File("out");
        string json = Path.Combine(outDir, "results.json");
        string script = $"\"{app}\" segment \"{images}\" --device cpu --out \"{outDir}\" > \"{temp.File("log")}\" 2>&1 & pid=$!; "
            + $"while ! [ -s \"{json}.partial\" ]; do kill -0 $pid 2>/dev/null || break; sleep 0.05; done; kill -TERM $pid; wait $pid; echo $?";
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true };
        using (var bash = Process.Start(start)!)
        {
            string code = bash.StandardOutput.ReadToEnd().Trim();
            Assert.True(bash.WaitForExit(TimeSpan.FromMinutes(5)));
            Assert.True(code == "130", $"exit {code}\n{File.ReadAllText(temp.File("log"))}");
        }
        var stopped = CocoJson.ReadResults(json).Select(r => r.ImageId).Distinct().ToList();
        Assert.InRange(stopped.Count, 1, 29);
        Assert.True(File.Exists(json + ".partial"), "the partial file is kept for --resume");

        var (resumed, output, error) = CliRun.Run("segment", images, "--device", "cpu", "--out", outDir, "--resume");
        Assert.True(resumed == 0, output + error);
        var all = CocoJson.ReadResults(json).GroupBy(r => r.ImageId).ToList();
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), all.Select(g => g.Key).Order());
        Assert.False(File.Exists(json + ".partial"));
    }
}
