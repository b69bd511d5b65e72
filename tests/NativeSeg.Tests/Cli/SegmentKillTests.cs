using System.Diagnostics;
using NativeSeg.Cli.Rendering;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// SIGKILL in the middle of a folder, which no handler sees: a bash parent starts `segment` writing JSON Lines,
/// waits for its third finished image and kills it; --resume then segments exactly the images without a
/// complete line, so at most the one in flight is done twice, and every image ends up in the file once.
/// </summary>
public class SegmentKillTests
{
    [Fact]
    public void ResumeAfterSigkillRedoesAtMostTheImageInFlight()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, CliRun.Run("synth", "--out", temp.File("data"), "--images", "24", "--size", "160x128", "--seed", "4").Code);
        string app = Path.Combine(AppContext.BaseDirectory, "nativeseg"), images = temp.File("data/images"), outDir = temp.File("out");
        string lines = temp.File("results.jsonl"), log = temp.File("log");
        string script = $"\"{app}\" segment \"{images}\" --device cpu --out \"{outDir}\" --json \"{lines}\" > \"{log}\" 2>&1 & pid=$!; "
            + $"while [ \"$(wc -l < \"{lines}\" 2>/dev/null || echo 0)\" -lt 3 ]; do kill -0 $pid 2>/dev/null || break; sleep 0.02; done; kill -KILL $pid; wait $pid; echo $?";
        using (var bash = Process.Start(new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true })!)
        {
            string code = bash.StandardOutput.ReadToEnd().Trim();
            Assert.True(bash.WaitForExit(TimeSpan.FromMinutes(5)));
            Assert.True(code == "137", $"exit {code} (not killed: the run ended first?)\n{File.ReadAllText(log)}");
        }
        bool torn = false;
        int complete = ResultLines.Read(lines, _ => torn = true).Count();
        Assert.InRange(complete, 3, 23);

        var (resumed, output, error) = CliRun.Run("segment", images, "--device", "cpu", "--out", outDir, "--json", lines, "--resume");

        Assert.True(resumed == 0, output + error);
        Assert.Contains($"resuming {lines}: {complete} finished images are skipped", output);
        Assert.Equal(torn, output.Contains("its last line, cut off by the interruption, is dropped"));
        // Only images without a complete line are segmented again: the torn one at most, of those the killed run had started.
        Assert.Contains($"{24 - complete} images (+{complete} finished before)", output);
        var inputs = ResultLines.Read(lines, _ => Assert.Fail("a torn line is left after the resumed run")).Select(e => e.Input).ToList();
        Assert.Equal(24, inputs.Count);
        Assert.Equal(Directory.GetFiles(images).Order(StringComparer.Ordinal), inputs.Order(StringComparer.Ordinal));
    }
}
