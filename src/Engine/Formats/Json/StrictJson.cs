using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NativeSeg.Engine.Formats.Json;

/// <summary>
/// JSON parsing that fails at parse time, with a <see cref="JsonException"/>, on every input it cannot read.
/// System.Text.Json accepts an escaped lone surrogate ("\uD800") in a name or string while parsing and only throws,
/// with an InvalidOperationException, when that name or string is later compared or read; so a reader that checks
/// properties one by one would crash on such a file at an arbitrary place instead of naming it as bad input.
/// </summary>
public static class StrictJson
{
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, JsonDocumentOptions options = default)
    {
        var document = JsonDocument.Parse(utf8, options);
        if (!MayHoldSurrogateEscape(utf8.Span)) return document;
        try
        {
            CheckTexts(document.RootElement);
            return document;
        }
        catch (InvalidOperationException e)
        {
            document.Dispose();
            throw new JsonException("a name or string escapes an unpaired UTF-16 surrogate", e);
        }
    }

    public static JsonDocument Parse(string json, JsonDocumentOptions options = default) =>
        Parse(Encoding.UTF8.GetBytes(json), options);

    /// <summary>The text as a JSON object, or null when it is a JSON null.</summary>
    /// <exception cref="JsonException">The text is not JSON or holds an unreadable escape.</exception>
    /// <exception cref="FormatException">The text is JSON but neither an object nor null; names <paramref name="what"/>.</exception>
    public static JsonObject? ParseObject(string json, string what)
    {
        using var document = Parse(json);
        return document.RootElement.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.Object => JsonObject.Create(document.RootElement.Clone()),
            var kind => throw new FormatException($"{what} is a JSON {kind.ToString().ToLowerInvariant()}, not an object"),
        };
    }

    /// <summary>Whether the bytes hold "\u" followed by a surrogate's first hex digits (D8..DF); only then can a text be unreadable.</summary>
    private static bool MayHoldSurrogateEscape(ReadOnlySpan<byte> utf8)
    {
        for (int i = utf8.IndexOf((byte)'\\'); i >= 0 && i + 3 < utf8.Length; )
        {
            if (utf8[i + 1] == 'u' && (utf8[i + 2] | 0x20) == 'd' && IsSurrogateSecondDigit(utf8[i + 3])) return true;
            int next = utf8[(i + 1)..].IndexOf((byte)'\\');
            if (next < 0) break;
            i += 1 + next;
        }
        return false;
    }

    private static bool IsSurrogateSecondDigit(byte b) => b is (byte)'8' or (byte)'9' || (b | 0x20) is >= (byte)'a' and <= (byte)'f';

    private static void CheckTexts(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    CheckTexts(property.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) CheckTexts(item);
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}
