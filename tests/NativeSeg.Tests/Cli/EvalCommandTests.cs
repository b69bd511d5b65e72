using System.Text.Json.Nodes;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>`nativeseg eval` says what in its inputs it ignores or cannot read.</summary>
public class EvalCommandTests
{
    private static string Synth(TempFolder temp)
    {
        var (code, output, error) = CliRun.Run("synth", "--out", temp.Path, "--images", "2", "--size", "32x32", "--classes", "2");
        Assert.True(code == 0, output + error);
        return Path.Combine(temp.Path, "annotations.json");
    }

    private static void Edit(string path, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
    }

    [Fact]
    public void WarnsOncePerKindOfIgnoredAnnotation()
    {
        using var temp = new TempFolder();
        string annotations = Synth(temp);
        Edit(annotations, root =>
        {
            var list = root["annotations"]!.AsArray();
            var template = list[0]!;
            foreach (var (id, image, category) in new[] { (1000L, 999L, 1L), (1001L, 998L, 1L), (1002L, 1L, 77L) })
            {
                var orphan = template.DeepClone().AsObject();
                orphan["id"] = id;
                orphan["image_id"] = image;
                orphan["category_id"] = category;
                list.Add(orphan);
            }
        });
        File.WriteAllText(temp.File("res.json"), "[]");

        var (code, output, error) = CliRun.Run("eval", "--annotations", annotations, "--results", temp.File("res.json"));

        Assert.True(code == 0, output + error);
        Assert.Contains("warning: 2 annotations refer to unknown image ids (e.g. annotation 1000 → image 999); they are ignored", error);
        Assert.Contains("warning: 1 annotations refer to unknown category ids (e.g. annotation 1002 → category 77); they are ignored", error);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("-Infinity")]
    public void NonFiniteScoreIsAnErrorNamingTheResult(string score)
    {
        using var temp = new TempFolder();
        string annotations = Synth(temp), results = temp.File("results.json");
        File.WriteAllText(results, $$"""
            [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.5, "note": "NaN \" NaN"},
             {"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": {{score}}}]
            """);

        var (code, _, error) = CliRun.Run("eval", "--annotations", annotations, "--results", results, "--iou-type", "bbox");

        Assert.Equal(2, code);
        Assert.Contains($"results.json: result 1 has score {score}", error);
    }

    [Fact]
    public void WarnsWhenTheModelLacksAnnotationCategories()
    {
        using var temp = new TempFolder();
        string annotations = Synth(temp), model = temp.File("model.safetensors");
        // 12 is one of the ids COCO leaves out of its 80 categories.
        Edit(annotations, root =>
        {
            root["categories"]![0]!["id"] = 12;
            foreach (var a in root["annotations"]!.AsArray())
                if ((long)a!["category_id"]! == 1) a["category_id"] = 12;
        });
        SegmentCommandTests.WriteModel(model, MaskRcnnArchitectures.Torchvision);

        var (_, output, error) = CliRun.Run("eval", "--annotations", annotations, "--model", model, "--images", temp.Path);

        Assert.Contains("warning: the model has no category for 1 of the 2 annotation categories (e.g. category 12 ", error + output);
    }
}
