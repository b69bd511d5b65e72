using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// build/slurm on a real single-node Slurm that the test starts and stops (build/slurm/local-cluster.sh, every
/// file in a temporary folder): submit.sh runs a 4-task array over 40 synthetic images and a merge-and-eval job;
/// one running task is killed with SIGKILL and requeued; the merged results and the evaluation equal one
/// `segment` process over the same folder.
/// </summary>
public class SlurmArrayTests
{
    private const int Tasks = 4;

    [SlurmFact]
    public void AnArrayWithOneTaskKilledAndRequeuedMergesToWhatOneProcessFinds()
    {
        Assert.Null(SlurmFactAttribute.Missing());
        using var temp = new TempFolder();
        Assert.Equal(0, CliRun.Run("synth", "--out", temp.File("data"), "--images", "40", "--size", "64x64", "--seed", "31").Code);
        string images = temp.File("data/images"), annotations = temp.File("data/annotations.json"), outDir = temp.File("run");
        string cluster = temp.File("slurm"), scripts = Path.Combine(RepositoryRoot(), "build", "slurm"), app = Path.Combine(AppContext.BaseDirectory, "nativeseg");
        var environment = new Dictionary<string, string> { ["SLURM_CONF"] = Path.Combine(cluster, "slurm.conf") };
        // One thread, as each task has (--cpus-per-task 1): another thread count sums in another order and can move a score in the 5th decimal.
        Shell($"NATIVESEG_THREADS=1 \"{app}\" segment \"{images}\" --annotations \"{annotations}\" --device cpu --out \"{temp.File("one")}\"", environment);
        Assert.Equal(0, CliRun.Run("eval", "--annotations", annotations, "--results", temp.File("one/results.json"), "--json", temp.File("one/eval.json")).Code);

        Shell($"\"{scripts}/local-cluster.sh\" start \"{cluster}\"", environment);
        try
        {
            string submitted = Shell($"\"{scripts}/submit.sh\" --tasks {Tasks} --out \"{outDir}\" --cpus-per-task 1 --nativeseg \"{app}\" "
                + $"-- \"{images}\" --annotations \"{annotations}\"", environment);
            string array = Regex.Match(submitted, @"array (\d+)").Groups[1].Value, merge = Regex.Match(submitted, @"merge (\d+)").Groups[1].Value;
            string killed = $"{array}_1", shard = Path.Combine(outDir, $"shard-1-of-{Tasks}.jsonl");

            // Kill task 1 once it has finished an image: SIGKILL to its batch shell and nativeseg, which no handler sees.
            WaitFor(() => (File.Exists(shard) && File.ReadLines(shard).Any()) || State(killed, environment) is not ("PENDING" or "CONFIGURING" or "RUNNING"),
                TimeSpan.FromMinutes(3), $"task {killed} to finish an image", environment);
            Assert.True(State(killed, environment) == "RUNNING",
                $"task {killed} is {State(killed, environment)}, not running:\n{File.ReadAllText(Path.Combine(outDir, $"segment-{array}_1.log"))}");
            Shell($"scancel --batch --signal=KILL {killed}", environment);
            WaitFor(() => State(killed, environment) is not ("RUNNING" or "COMPLETING"), TimeSpan.FromMinutes(1), $"task {killed} to end", environment);
            string job = Shell($"scontrol show job {killed}", environment);
            Assert.True(State(killed, environment) == "FAILED" && job.Contains("ExitCode=0:9"), $"task {killed} was not killed by SIGKILL while running:\n{job}");
            int finishedBeforeKill = File.ReadLines(shard).Count();

            // Requeued without Slurm's two-minute requeue delay; the killed attempt's failure has already made the merge's
            // dependency on the whole array unsatisfiable, so it is pointed at the tasks, the requeued one's new attempt included.
            Shell($"scontrol requeue {killed} && scontrol update JobId={killed} StartTime=now && "
                + $"scontrol update JobId={merge} Dependency=afterok:{string.Join(':', Enumerable.Range(0, Tasks).Select(t => $"{array}_{t}"))}", environment);
            WaitFor(() => State(merge, environment) is "COMPLETED" or "FAILED" or "CANCELLED", TimeSpan.FromMinutes(4), $"merge job {merge}", environment);

            string mergeLog = File.ReadAllText(Path.Combine(outDir, $"merge-{merge}.log"));
            Assert.True(State(merge, environment) == "COMPLETED", $"merge job {merge}: {State(merge, environment)}\n{mergeLog}");
            Assert.Contains("40 images of 40,", mergeLog);
            string taskLog = File.ReadAllText(Path.Combine(outDir, $"segment-{array}_1.log"));
            Assert.Contains("(attempt 2)", taskLog);
            Assert.Contains($"resuming {shard}: {finishedBeforeKill} finished images are skipped", taskLog);

            var merged = SegmentShardTests.PerImage(CocoJson.ReadResults(Path.Combine(outDir, "results.json")));
            var single = SegmentShardTests.PerImage(CocoJson.ReadResults(temp.File("one/results.json")));
            Assert.Equal(40, single.Count);
            Assert.Equal(single.OrderBy(p => p.Key), merged.OrderBy(p => p.Key));
            Assert.Equal(File.ReadAllText(temp.File("one/eval.json")), File.ReadAllText(Path.Combine(outDir, "eval.json")));
        }
        finally
        {
            Shell($"\"{scripts}/local-cluster.sh\" stop \"{cluster}\"", environment);
        }
    }

    private static string? State(string job, Dictionary<string, string> environment) =>
        Regex.Match(Shell($"scontrol show job {job}", environment), @"JobState=(\w+)") is { Success: true } m ? m.Groups[1].Value : null;

    private static void WaitFor(Func<bool> done, TimeSpan limit, string what, Dictionary<string, string> environment)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > limit) Assert.Fail($"waited {limit.TotalSeconds} s for {what}; queue:\n{Shell("squeue", environment)}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Runs a bash command line (bash does the signalling that the test host cannot) and returns its output; failing is a test failure.</summary>
    private static string Shell(string command, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"{command} did not end in 2 minutes");
        Assert.True(process.ExitCode == 0, $"{command} exited {process.ExitCode}\n{output}\n{error.Result}");
        return output;
    }

    private static string RepositoryRoot([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", ".."));
}
