using System.Text.Json;
using NativeSeg.Cli;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Bcnet;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.MaskRcnn;

namespace NativeSeg.Tests.Cli;

[Collection(PoolCollection.Name)]
public class BenchModelCommandTests
{
    private const int Runs = 3;

    /// <summary>What a two-stage model reports: every stage but the one-stage detectors' FCOS head and BlendMask's bases and blender.</summary>
    private static readonly string[] MaskRcnnStages = [.. Stages.All.Except([Stages.FcosHead, Stages.Bases, Stages.Blender])];

    [Fact]
    public void TimesEveryStageAndReportsThePoolBeforeAndAfter()
    {
        using var temp = new TempFolder();
        string model = temp.File("model.safetensors"), json = temp.File("bench.json");
        TinyMaskRcnn.WriteTorchvision(model);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["bench", "model", "--model", model, "--image", FixturePaths.Fixture("exif_o1.jpg"), "--device", "cpu",
            "--runs", Runs.ToString(), "--warmup", "1", "--ceilings", "small", "--json", json], output, error);
        Assert.True(code == 0, output + "\n" + error);
        string text = output.ToString();
        foreach (string stage in MaskRcnnStages.Append("end to end")) Assert.Contains("\n" + stage + " ", text);
        Assert.DoesNotContain(Stages.FcosHead, text);
        Assert.DoesNotContain("bilayer", text);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.True(root.GetProperty("detections").GetInt32() > 0, text);
        long before = root.GetProperty("pool_bytes_in_use_before").GetInt64();
        Assert.Equal(before, root.GetProperty("pool_bytes_in_use_after").GetInt64());
        Assert.Contains($"pool bytes in use on cpu: {before} before the runs, {before} after", text);

        var stages = root.GetProperty("stages");
        double[] Samples(string stage) => stages.GetProperty(stage).GetProperty("samples_ms").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var total = Samples("end to end");
        Assert.Equal(Runs, total.Length);
        for (int r = 0; r < Runs; r++)
        {
            // The stages tile the inference, which the end-to-end clock encloses.
            double sum = MaskRcnnStages.Sum(s => Samples(s)[r]);
            Assert.True(sum > 0 && sum <= total[r], $"run {r}: stages sum to {sum} ms, end to end {total[r]} ms");
        }
        foreach (string stage in MaskRcnnStages.Append("end to end"))
        {
            var s = stages.GetProperty(stage);
            double min = s.GetProperty("min_ms").GetDouble(), median = s.GetProperty("median_ms").GetDouble(), max = s.GetProperty("max_ms").GetDouble();
            Assert.True(min <= median && median <= max, $"{stage}: {min} {median} {max}");
            Assert.Equal(median / stages.GetProperty("end to end").GetProperty("median_ms").GetDouble(), s.GetProperty("share").GetDouble(), 9);
        }

        // The network stages ran convolutions and linear layers, decoding and pasting none; the whole is their sum.
        long Flops(string stage) => stages.GetProperty(stage).GetProperty("flops").GetInt64();
        foreach (string stage in new[] { Stages.Backbone, Stages.Rpn, Stages.BoxHead, Stages.MaskHead }) Assert.True(Flops(stage) > 0, $"{stage}: no FLOPs\n{text}");
        Assert.Equal(0, Flops(Stages.Decode));
        Assert.Equal(0, Flops(Stages.Paste));
        Assert.Equal(MaskRcnnStages.Sum(Flops), Flops("end to end"));
        var backbone = stages.GetProperty(Stages.Backbone);
        double rate = backbone.GetProperty("gflops_per_second").GetDouble();
        Assert.Equal(Flops(Stages.Backbone) / (backbone.GetProperty("median_ms").GetDouble() * 1e6), rate, 9);
        double sgemm = root.GetProperty("ceilings").GetProperty("sgemm").GetProperty("gflops_per_second").GetDouble();
        Assert.True(sgemm > 0, text);
        Assert.Equal(rate / sgemm, backbone.GetProperty("fraction_of_sgemm").GetDouble(), 9);
        Assert.Contains("ceilings (median of 3 runs after the model's): sgemm 512x512x512", text);
        Assert.Contains("effective GFLOP/s", text);
    }

    [Fact]
    public void TimesBcnetsStagesAndWhatItsBilayerHeadAdds()
    {
        using var temp = new TempFolder();
        string model = temp.File("bcnet.safetensors"), json = temp.File("bench.json");
        BcnetFixture.WriteWholeModel(model);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["bench", "model", "--model", model, "--image", FixturePaths.Fixture("palette.png"), "--device", "cpu",
            "--runs", "1", "--warmup", "0", "--mask-rois", "2", "--ceilings", "none", "--json", json], output, error);
        Assert.True(code == 0, output + "\n" + error);
        string text = output.ToString();
        foreach (string stage in new[] { Stages.Backbone, Stages.FcosHead, Stages.MaskHead, "end to end" }) Assert.Contains("\n" + stage + " ", text);
        Assert.DoesNotContain("\n" + Stages.Rpn + " ", text);
        Assert.Contains("mask heads on the same 2 RoIs", text);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var cost = doc.RootElement.GetProperty("mask_head_cost");
        Assert.Equal(2, cost.GetProperty("rois").GetInt32());
        double standard = cost.GetProperty("maskrcnn_head_ms").GetDouble(), bilayer = cost.GetProperty("bilayer_head_ms").GetDouble();
        Assert.True(standard > 0 && bilayer > 0, text);
        Assert.Equal(bilayer - standard, cost.GetProperty("added_ms").GetDouble(), 9);
        // Spec §1.6's counts less the three outputs inference skips: 0.925 GMAC of convs, 0.142 of non-local blocks, 0.051 deconv.
        Assert.Equal(1.1185, cost.GetProperty("bilayer_head_gmac_per_roi").GetDouble(), 4);
        Assert.Equal(0.5299, cost.GetProperty("maskrcnn_head_gmac_per_roi").GetDouble(), 4);
        Assert.Equal(0, doc.RootElement.GetProperty("stages").GetProperty(Stages.FcosHead).GetProperty("samples_ms").GetArrayLength() - 1);
    }

    [Fact]
    public void RejectsAModelOfAnotherArchitecture()
    {
        using var temp = new TempFolder();
        string model = temp.File("other.safetensors");
        using (var t = NativeSeg.Engine.Tensors.Tensor.FromArray(new float[] { 1 }, 1))
            NativeSeg.Engine.Formats.Safetensors.SafetensorsWriter.Write(model, [new("x", t)], new Dictionary<string, string> { ["architecture"] = "bpr-hr18s" });
        var error = new StringWriter();
        int code = Program.Run(["bench", "model", "--model", model, "--image", FixturePaths.Fixture("exif_o1.jpg"), "--device", "cpu"], new StringWriter(), error);
        Assert.Equal(2, code);
        Assert.Contains("bpr-hr18s", error.ToString());
    }

    [Fact]
    public void WithoutModelTimesTheDefaultModel()
    {
        var (code, output, error) = CliRun.Run("bench", "model", "--image", FixturePaths.Fixture("palette.png"), "--device", "cpu", "--runs", "1", "--warmup", "0", "--ceilings", "none");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Contains("maskrcnn_resnet18_fpn_torchvision on cpu", output);
        Assert.Contains("end to end", output);
    }
}
