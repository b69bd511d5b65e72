using System.Text.Json;

namespace NativeSeg.Engine.Formats.Coco;

/// <summary>
/// Reads one JSON value as the type a COCO field needs. JsonElement's own getters throw
/// InvalidOperationException for a value of another kind or a string that is not valid UTF-8, and report
/// an out-of-range number without naming it; these throw a FormatException that names the field, which
/// <see cref="CocoJson"/> prefixes with the file and entry.
/// </summary>
internal static class CocoJsonValues
{
    public static double AsNumber(JsonElement v, string field)
    {
        if (v.ValueKind != JsonValueKind.Number) throw NotA("a number", v, field);
        if (!v.TryGetDouble(out double d) || !double.IsFinite(d)) throw new FormatException($"'{field}' = {v.GetRawText()} is out of range");
        return d;
    }

    public static int AsInt32(JsonElement v, string field)
    {
        if (v.ValueKind != JsonValueKind.Number) throw NotA("an integer", v, field);
        return v.TryGetInt32(out int i) ? i : throw new FormatException($"'{field}' = {v.GetRawText()} is not a 32-bit integer");
    }

    public static uint AsUInt32(JsonElement v, string field)
    {
        if (v.ValueKind != JsonValueKind.Number) throw NotA("an integer", v, field);
        return v.TryGetUInt32(out uint u) ? u : throw new FormatException($"'{field}' = {v.GetRawText()} is not an unsigned 32-bit integer");
    }

    public static string AsText(JsonElement v, string field)
    {
        if (v.ValueKind != JsonValueKind.String) throw NotA("a string", v, field);
        try
        {
            return v.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new FormatException($"'{field}' is not valid UTF-8 text");
        }
    }

    private static FormatException NotA(string kind, JsonElement v, string field) =>
        new($"'{field}' is {v.ValueKind.ToString().ToLowerInvariant()}, not {kind}");
}
