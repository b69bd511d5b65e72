using System.Diagnostics;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Synthetic;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `nativeseg segment` on a large image with 100 instances, as a child process whose peak resident memory
/// (VmHWM) is read while it runs: memory must grow with the image, not with instances × image pixels.
/// </summary>
public class SegmentMemoryTests
{
    private const int Side = 3000;

    /// <summary>
    /// A fixed part (runtime, model, buffers) and a part per image pixel, both about twice what was measured
    /// (374 MiB here at 3000×3000, 484 MiB at 4000×4000, 1658 MiB at 10000×10000: about 250 MiB + 15 bytes per
    /// pixel). A byte per pixel per instance, as a whole-image mask per instance costs, is 858 MiB more here.
    /// </summary>
    private const long BoundBytes = (300L << 20) + 32L * Side * Side;

    [Fact]
    public async Task PeakMemoryGrowsWithTheImageNotWithInstancesTimesPixels()
    {
        using var temp = new TempFolder();
        var generated = SyntheticDataset.Generate(new SyntheticOptions(1, Side, Side, 6, 20, Seed: 3), 0);
        string png = temp.File("large.png"), outDir = temp.File("out");
        Png.Write(png, new Image(Side, Side, 3, generated.Rgb));

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "nativeseg.dll"), "segment", png, "--device", "cpu", "--score-thresh", "0", "--out", outDir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!process.HasExited)
        {
            peak = Math.Max(peak, HighWaterMark(process.Id));
            await Task.Delay(10);
        }
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await output}\n{await error}");
        int instances = CocoJson.ReadResults(Path.Combine(outDir, "results.json")).Count;
        Assert.True(instances >= 90, $"only {instances} instances; the test needs about 100 to show memory per instance");
        Assert.True(peak > 0, "VmHWM of the child was never read");
        Assert.True(peak < BoundBytes, $"peak resident memory {peak >> 20} MiB for {instances} instances on {Side}x{Side} exceeds {BoundBytes >> 20} MiB");
    }

    [Fact]
    public void AnImageOverThePixelLimitIsSkippedFromItsHeaderNamingTheLimit()
    {
        using var temp = new TempFolder();
        // A small JPEG whose frame header claims 12000×12000: within the side limit, over the pixel limit.
        byte[] jpeg = File.ReadAllBytes(FixturePaths.Fixture("subsampled.jpg"));
        int sof = Enumerable.Range(2, jpeg.Length - 3).First(i => jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0);
        jpeg[sof + 5] = 0x2E; jpeg[sof + 6] = 0xE0; jpeg[sof + 7] = 0x2E; jpeg[sof + 8] = 0xE0;
        string huge = temp.File("huge.jpg");
        File.WriteAllBytes(huge, jpeg);

        var (code, _, error) = CliRun.Run("segment", huge, "--device", "cpu", "--out", temp.File("out"));

        Assert.Equal(1, code);
        Assert.Contains($"skipping {huge}: ", error);
        Assert.Contains("12000x12000 (144000000 pixels) exceeds the limit of 100000000 pixels", error);
    }

    /// <summary>VmHWM of the process in bytes; 0 once it has exited.</summary>
    private static long HighWaterMark(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]) * 1024;
        }
        catch (IOException)
        {
            // The process exited between the poll and the read.
        }
        return 0;
    }
}
