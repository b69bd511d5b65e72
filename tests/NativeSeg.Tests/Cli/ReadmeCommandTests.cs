using System.Text.RegularExpressions;
using NativeSeg.Engine.Native;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// Every nativeseg command README.md shows (in code blocks, and in inline code that starts with `nativeseg ` or
/// `dotnet run --project src/Cli -c Release -- `, outside tables) runs as written, in README order, as a child process in one
/// working folder, and exits 0. The README's placeholders stand for files that folder holds (<see cref="Placeholders"/>);
/// the commands that cannot run here are listed with the reason in <see cref="NotRun"/>, and the test fails if that
/// list and the README drift apart.
/// </summary>
public partial class ReadmeCommandTests(ITestOutputHelper log)
{
    private const string DotnetRun = "dotnet run --project src/Cli -c Release -- ";

    /// <summary>README placeholder → what stands for it in the working folder (a synthetic dataset at its root and in data/).</summary>
    private static readonly Dictionary<string, string> Placeholders = new(StringComparer.Ordinal)
    {
        ["path/to/image.jpg"] = "path/to/image.jpg", // a synthetic JPEG put there
        ["I.jpg"] = "path/to/image.jpg",
        ["M"] = "weights/default.safetensors", // not in the working folder: the default model resolves from any folder
        ["M.safetensors"] = "weights/default.safetensors",
        ["A.json"] = "annotations.json",
        ["ANN.json"] = "annotations.json",
        ["DIR"] = ".",
        ["R.json"] = "results/results.json", // written by the README's segment command before it
        ["OUT"] = "synth-out",
        ["N"] = "2",
    };

    /// <summary>Commands not run here (matched by a fragment), and why.</summary>
    private static readonly (string Fragment, string Reason)[] NotRun =
    [
        ("--images 3000", "writes the default model's 3000-image training set: over 3 minutes on this machine"),
        ("model_final.pth", "converts the checkpoint build/train-bilayer-head.py trains with PyTorch"),
        ("--config build/default-model-config.json", "the test's working folder has no build/; InitCommandTests run init"),
        ("train --model init.safetensors", "trains the default model from scratch: 1451 iterations, 12 minutes on a quiet 2-core machine"),
        ("--config CONFIG.json", "names a config the reader writes; InitCommandTests run init with configs of their own"),
        ("model_final_beta.pth", "needs BCNet's released checkpoint, which could not be downloaded"),
        ("R_50_1x.pth", "needs AdelaiDet's released BlendMask checkpoint, which could not be downloaded"),
        ("train --model weights/default.safetensors --annotations ANN.json", "runs 300 training iterations, minutes here; TrainCommandTests run train"),
        ("convert model.pth", "needs a whole PyTorch checkpoint; the repository's .pth fixtures are partial (ConvertCommandTests convert them)"),
        ("kernels verify --device cuda", "needs a CUDA GPU"),
        ("bench kernels --device cpu", "times every kernel at paper sizes for minutes; BenchKernelsCommandTests run the small sizes"),
        ("merge SHARDS...", "needs the shard files of a sharded run; SegmentShardTests and SlurmArrayTests run merge"),
        ("<command>", "is a template for the commands above"),
        ("--model BPR.safetensors", "is a template (IMAGE..., COARSE.json, optional parts in brackets); RefineCommandTests and ShippedBprWeightsTests refine"),
        ("--refine BPR.safetensors", "is a template (IMAGE...); RefineCommandTests run segment --refine"),
        ("--images 400 --seed 31", "writes the BPR training set, whose segment run takes minutes and whose training most of an hour"),
        ("--images 100 --seed 32", "writes the held-out split the BPR numbers were measured on"),
        ("--json train/coarse.json", "segments the 400 BPR training images, minutes here; BprTrainCommandTests train BPR on coarse masks of their own"),
        ("val/coarse05.json", "needs the held-out split above (refining it takes minutes); ShippedBprWeightsTests refine with the shipped weights"),
    ];

    public static List<string> Commands(string markdown)
    {
        var commands = new List<string>();
        bool fenced = false;
        var prose = new List<string>();
        string pending = "";
        foreach (string raw in markdown.Split('\n'))
        {
            string line = raw.TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }
            if (!fenced)
            {
                // Table cells name things (a trainer, a head); they are not commands.
                if (!line.StartsWith('|')) prose.Add(line);
                continue;
            }
            pending += line.TrimStart();
            if (pending.EndsWith('\\'))
            {
                pending = pending[..^1];
                continue;
            }
            commands.Add(pending);
            pending = "";
        }
        // Inline code can wrap across lines; the paragraphs are joined first.
        commands.AddRange(InlineCode().Matches(string.Join(" ", prose)).Select(m => m.Groups[1].Value));
        return commands.Select(c => c.Trim())
            .Select(c => c.StartsWith(DotnetRun, StringComparison.Ordinal) ? "nativeseg " + c[DotnetRun.Length..] : c)
            .Where(c => c.StartsWith("nativeseg ", StringComparison.Ordinal))
            .ToList();
    }

    [Fact]
    public void FindsTheCommandsInCodeBlocksAndInlineCode()
    {
        var commands = Commands(File.ReadAllText(Readme()));
        Assert.Contains("nativeseg segment path/to/image.jpg --out results/", commands);
        Assert.Contains("nativeseg info", commands);
        Assert.Contains(commands, c => c.StartsWith("nativeseg train --model weights/default.safetensors --annotations ANN.json --images DIR --out RUN --iters 300", StringComparison.Ordinal));
        Assert.DoesNotContain(commands, c => c.Contains("install-deps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryReadmeCommandRunsAsWritten()
    {
        using var work = new TempFolder();
        Prepare(work);
        var commands = Commands(File.ReadAllText(Readme()));
        var failures = new List<string>();
        var usedSkips = new HashSet<string>();
        bool nvrtc = LibraryProbe.Find(NativeLibrarySpec.Nvrtc).Found;
        int ran = 0;
        foreach (string command in commands)
        {
            var skip = NotRun.FirstOrDefault(s => command.Contains(s.Fragment, StringComparison.Ordinal));
            if (skip.Fragment is not null)
            {
                usedSkips.Add(skip.Fragment);
                log.WriteLine($"not run: {command}\n  because it {skip.Reason}");
                continue;
            }
            if (command.Contains("kernels compile", StringComparison.Ordinal) && !nvrtc)
            {
                log.WriteLine($"not run: {command}\n  because NVRTC is not installed");
                continue;
            }
            string[] args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(a => Placeholders.GetValueOrDefault(a, a)).ToArray();
            var (code, output, error) = await CliProcess.RunAsync(work.Path, args);
            ran++;
            log.WriteLine($"exit {code}: {command}");
            if (code != 0) failures.Add($"exit {code}: {command}\n{output}{error}");
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        Assert.Equal(NotRun.Select(s => s.Fragment).Order(), usedSkips.Order());
        Assert.True(ran >= 8, $"only {ran} README commands ran");
    }

    /// <summary>A synthetic dataset at the folder's root (annotations.json, images/) and in data/, and a JPEG at path/to/image.jpg.</summary>
    private static void Prepare(TempFolder work)
    {
        Assert.Equal(0, CliRun.Run("synth", "--out", work.Path, "--images", "2", "--size", "160x128", "--seed", "4").Code);
        Assert.Equal(0, CliRun.Run("synth", "--out", work.File("data"), "--images", "2", "--size", "160x128", "--seed", "5").Code);
        Assert.Equal(0, CliRun.Run("synth", "--out", work.File("jpg"), "--images", "1", "--size", "160x128", "--seed", "6", "--format", "jpg").Code);
        Directory.CreateDirectory(work.File("path/to"));
        File.Move(work.File("jpg/images/000001.jpg"), work.File("path/to/image.jpg"));
    }

    private static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeSeg.sln"))) return Path.Combine(dir.FullName, "README.md");
        throw new FileNotFoundException("README.md: no NativeSeg.sln above the test binaries");
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex InlineCode();
}
