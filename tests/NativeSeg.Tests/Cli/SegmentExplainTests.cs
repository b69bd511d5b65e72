using NativeSeg.Engine.Formats.Images;
using NativeSeg.Tests.Bcnet;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>`nativeseg segment --explain` on a whole BCNet file (the BCNet fixture's heads on hashed R50-FPN weights).</summary>
public class SegmentExplainTests
{
    [Fact]
    public void WritesOneFigurePerInstanceAndTheSameResultsAsWithoutExplain()
    {
        using var temp = new TempFolder();
        string model = temp.File("bcnet.safetensors");
        BcnetFixture.WriteWholeModel(model);
        string image = temp.File("scene.png");
        File.Copy(FixturePaths.Fixture("palette.png"), image);

        var plain = CliRun.Run("segment", image, "--model", model, "--device", "cpu", "--out", temp.File("plain"));
        Assert.True(plain.Code == 0, plain.Output + plain.Error);
        var explained = CliRun.Run("segment", image, "--model", model, "--device", "cpu", "--out", temp.File("explained"), "--explain");
        Assert.True(explained.Code == 0, explained.Output + explained.Error);

        // Explaining computes the other three maps but must not change what is detected and segmented.
        Assert.Equal(File.ReadAllText(temp.File("plain/results.json")), File.ReadAllText(temp.File("explained/results.json")));
        var figures = Directory.GetFiles(temp.File("explained/explain"), "*.png").Order(StringComparer.Ordinal).ToList();
        int instances = File.ReadAllText(temp.File("plain/results.json")).Split("\"image_id\"").Length - 1;
        Assert.True(instances > 0, plain.Output);
        Assert.Equal(instances, figures.Count);
        Assert.Equal(temp.File("explained/explain/scene_0.png"), figures[0]);
        Assert.Contains($"(+{instances} explain figures)", explained.Output);

        var figure = ImageFile.Read(figures[0]);
        Assert.Equal((5 * 160 + 4 * 4, 16 + 160), (figure.Width, figure.Height));
        // Each heatmap panel shows a map, not a flat colour.
        for (int panel = 1; panel < 5; panel++)
        {
            var colours = new HashSet<int>();
            for (int y = 16; y < figure.Height; y += 7)
                for (int x = panel * 164; x < panel * 164 + 160; x += 7)
                {
                    int p = (y * figure.Width + x) * 3;
                    colours.Add(figure.Pixels[p] << 16 | figure.Pixels[p + 1] << 8 | figure.Pixels[p + 2]);
                }
            Assert.True(colours.Count > 10, $"panel {panel} has {colours.Count} colours");
        }
    }

    [Fact]
    public void RefusesAModelWhoseMasksCannotBeExplained()
    {
        using var temp = new TempFolder();
        string model = temp.File("maskrcnn.safetensors");
        SegmentCommandTests.WriteModel(model, NativeSeg.Models.MaskRcnn.MaskRcnnArchitectures.Torchvision);
        string image = temp.File("scene.png");
        File.Copy(FixturePaths.Fixture("palette.png"), image);

        var (code, _, error) = CliRun.Run("segment", image, "--model", model, "--device", "cpu", "--out", temp.File("out"), "--explain");
        Assert.Equal(2, code);
        Assert.Contains("--explain needs a model whose masks can be explained", error);
        Assert.Contains("maskrcnn_resnet50_fpn_torchvision", error);
    }
}
