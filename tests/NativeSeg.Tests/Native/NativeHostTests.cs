using System.Globalization;
using System.Text.Json.Nodes;
using NativeSeg.Cli;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Native;

/// <summary>
/// libnativeseg.so from C: the shipped example and the C tests in tests/Native, against the CLI's results on
/// the same image and model (boxes within 0.01 px, scores within 1e-5, identical masks).
/// </summary>
public class NativeHostTests
{
    [NativeHostFact]
    public void TheExampleFindsWhatTheCliFinds()
    {
        using var temp = new TempFolder();
        string png = ShapesImage.Write(temp, out _);
        var (code, output, error) = NativeHost.Run("segment_image", NativeHost.DefaultModel, png, "cpu");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        InstanceLines.AssertSame(CliInstances(temp, png), InstanceLines.Parse(output.Split('\n').Skip(1)));
    }

    [NativeHostFact]
    public void RgbPixelsWithAPaddedStrideGiveTheCliInstances()
    {
        using var temp = new TempFolder();
        string png = ShapesImage.Write(temp, out var image);
        int stride = image.Width * 3 + 13;
        var padded = new byte[stride * image.Height];
        Random.Shared.NextBytes(padded);
        for (int y = 0; y < image.Height; y++) image.Pixels.AsSpan(y * image.Width * 3, image.Width * 3).CopyTo(padded.AsSpan(y * stride));
        string raw = temp.File("shapes.rgb");
        File.WriteAllBytes(raw, padded);

        var (code, output, error) = NativeHost.Run("segment_raw", NativeHost.DefaultModel, raw,
            image.Width.ToString(CultureInfo.InvariantCulture), image.Height.ToString(CultureInfo.InvariantCulture), stride.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        InstanceLines.AssertSame(CliInstances(temp, png), InstanceLines.Parse(output.Split('\n')));
    }

    [NativeHostFact]
    public void EveryHostileCallReturnsAStatusWithAMessage()
    {
        using var temp = new TempFolder();
        string png = ShapesImage.Write(temp, out _);
        var (code, output, error) = NativeHost.Run("contract_test", NativeHost.DefaultModel, png);
        Assert.True(code == 0 && output.Contains("contract: OK"), $"exit {code}\n{output}\n{error}");
        Assert.DoesNotContain("FAIL", output);
    }

    [NativeHostFact]
    public void FourThreadsSharingOneModelGetWhatOneThreadGets()
    {
        using var temp = new TempFolder();
        string png = ShapesImage.Write(temp, out _);
        var (code, output, error) = NativeHost.Run("threads_test", NativeHost.DefaultModel, png, "2");
        Assert.True(code == 0 && output.Contains("threads: OK"), $"exit {code}\n{output}\n{error}");
    }

    [NativeHostFact]
    public void MemoryDoesNotGrowOverAThousandCalls()
    {
        using var temp = new TempFolder();
        string png = ShapesImage.Write(temp, out _);
        // The default model at 64 px and a 0.3 threshold: the same code paths, fast enough for 1000 calls in CI.
        string model = temp.File("small.safetensors");
        WithConfig(NativeHost.DefaultModel, model, config =>
        {
            config["min_size"] = 64;
            config["max_size"] = 64;
            config["score_thresh"] = 0.3;
        });
        var (code, output, error) = NativeHost.Run("leak_test", model, png, "1000");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        var kib = output.Split(' ', StringSplitOptions.TrimEntries).Skip(1).Select(long.Parse).ToArray();
        long growth = kib[1] - kib[0];
        Assert.True(growth < 16 * 1024, $"resident memory grew by {growth} KiB from call 100 to call 1000 ({output.Trim()})");
    }

    private static List<InstanceLines.Line> CliInstances(TempFolder temp, string png)
    {
        string outDir = temp.File("cli");
        int code = Program.Run(["segment", png, "--device", "cpu", "--model", NativeHost.DefaultModel, "--out", outDir], TextWriter.Null, TextWriter.Null);
        Assert.Equal(0, code);
        return CocoJson.ReadResults(Path.Combine(outDir, "results.json")).Select(r =>
        {
            var mask = Assert.IsType<RleSegmentation>(r.Segmentation).Mask;
            var box = r.Box!.Value;
            return new InstanceLines.Line((int)r.CategoryId, r.Score!.Value, box.X, box.Y, box.X + box.Width, box.Y + box.Height, mask.Area, InstanceLines.Fnv1a(mask.ToRowMajor()));
        }).ToList();
    }

    /// <summary>Copies a safetensors model with its "config" metadata edited; the tensors are copied byte for byte.</summary>
    private static void WithConfig(string source, string destination, Action<JsonObject> edit)
    {
        byte[] file = File.ReadAllBytes(source);
        long headerLength = BitConverter.ToInt64(file, 0);
        var header = JsonNode.Parse(file.AsSpan(8, (int)headerLength))!.AsObject();
        var metadata = header["__metadata__"]!.AsObject();
        var config = JsonNode.Parse(metadata["config"]!.GetValue<string>())!.AsObject();
        edit(config);
        metadata["config"] = config.ToJsonString();
        byte[] newHeader = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        using var output = File.Create(destination);
        output.Write(BitConverter.GetBytes((long)newHeader.Length));
        output.Write(newHeader);
        output.Write(file.AsSpan(8 + (int)headerLength));
    }
}
