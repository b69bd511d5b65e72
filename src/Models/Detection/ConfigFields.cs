using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NativeSeg.Engine.Formats.Json;

namespace NativeSeg.Models.Detection;

/// <summary>
/// The fields of a converted file's "config" metadata, read the same way by every family: each checked against its
/// bounds when the file loads, so a broken config fails naming the file and the field rather than aborting later.
/// </summary>
public static class ConfigFields
{
    /// <summary>
    /// The largest min_size and max_size, in pixels: four times the largest upstream test size (detectron2's Cityscapes
    /// configs, 2048), while an 8192-pixel square input already needs 4 GiB for the stem's activations alone; beyond
    /// it a config is broken, and the resize would only fail later as an out-of-memory abort.
    /// </summary>
    public const int MaxImageSize = 8192;

    /// <summary>The config JSON object, or null when the file has none (or a JSON null).</summary>
    public static JsonObject? Parse(string? json, string file)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            return StrictJson.ParseObject(json, $"{file}: the model config");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{file}: the model config is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>A config integer in [min, max], or null when the config does not set it.</summary>
    public static int? Integer(JsonObject? config, string key, int min, int max, string file)
    {
        if (Number(config, key, file) is not { } value) return null;
        if (!(value >= min && value <= max))
            throw new FormatException($"{file}: config {key} {Show(value)} is outside {min}..{max}");
        if (value != Math.Floor(value))
            throw new FormatException($"{file}: config {key} {Show(value)} is not an integer in {min}..{max}");
        return (int)value;
    }

    /// <summary>A config number in [min, max] (NaN is outside), or null when the config does not set it.</summary>
    public static double? Real(JsonObject? config, string key, double min, double max, string file)
    {
        if (Number(config, key, file) is not { } value) return null;
        if (!(value >= min && value <= max))
            throw new FormatException($"{file}: config {key} {Show(value)} is outside {Show(min)}..{Show(max)}");
        return value;
    }

    private static double? Number(JsonObject? config, string key, string file)
    {
        if (config?[key] is not { } node) return null;
        if (node is JsonValue v && (v.TryGetValue<double>(out var d) || double.TryParse(v.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d)))
            return d;
        throw new FormatException($"{file}: config {key} is {node.ToJsonString()}; it takes a number");
    }

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);
}
