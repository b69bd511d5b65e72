using System.Text.Json.Nodes;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Detection;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>The model a finetune starts from and the metadata its outputs carry.</summary>
/// <param name="Reinitialised">The class-specific layers that were given fresh weights (empty when the categories matched).</param>
public sealed record FinetuneStart(MaskRcnn Model, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<string> Reinitialised)
{
    /// <summary>
    /// The INIT file's model with raw parameters. When the annotations' categories are not the model's, the class
    /// logits, the class-specific box deltas and the mask predictor are re-initialised for the new categories (the
    /// usual finetune-to-my-classes case) with the flavour's initialisation, and everything else is kept.
    /// </summary>
    public static FinetuneStart Load(string path, IReadOnlyList<CocoCategory> categories, Device device, int seed)
    {
        using var file = SafetensorsFile.Open(path);
        var metadata = new Dictionary<string, string>(file.Metadata, StringComparer.Ordinal);
        var setup = MaskRcnnArchitectures.FromMetadata(metadata, path);
        using var weights = Float32Weights.Load(file);
        var tensors = new Dictionary<string, Tensor>(weights.Tensors, StringComparer.Ordinal);
        long[] ids = [.. categories.Select(c => c.Id).Order()];
        var modelIds = setup.Heads.CategoryIds.Where((_, i) => i != setup.Heads.BackgroundIndex).ToHashSet();
        if (ids.All(modelIds.Contains)) return new(MaskRcnn.Create(setup, tensors, device, path), metadata, []);

        metadata["config"] = WithCategories(metadata.GetValueOrDefault("config"), [.. categories.OrderBy(c => c.Id)], path);
        var retargeted = MaskRcnnArchitectures.FromMetadata(metadata, path);
        using var scope = TensorScope.Begin();
        var fresh = ClassSpecificLayers.Initialise(retargeted.Heads, retargeted.Heads.Flavour.HeadNames, seed);
        foreach (var (key, value) in fresh) tensors[key] = value;
        return new(MaskRcnn.Create(retargeted, tensors, device, path), metadata, [.. fresh.Keys.Order(StringComparer.Ordinal)]);
    }

    /// <summary>The model's "config" JSON with num_classes, category_ids and class_names of the new categories.</summary>
    private static string WithCategories(string? config, IReadOnlyList<CocoCategory> categories, string path)
    {
        var json = ConfigFields.Parse(config, path) ?? new JsonObject();
        json["num_classes"] = categories.Count + 1;
        var ids = categories.Select(c => JsonValue.Create(c.Id)).ToList<JsonNode?>();
        // category_ids lists the foreground in logit order; the background slot is implied by the flavour.
        json["category_ids"] = new JsonArray([.. ids]);
        json["class_names"] = new JsonArray([.. categories.Select(c => (JsonNode?)JsonValue.Create(c.Name))]);
        return json.ToJsonString();
    }
}
