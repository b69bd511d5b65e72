using System.Text;
using System.Text.Json;
using NativeSeg.Engine.Formats.Json;

namespace NativeSeg.Tests.Formats;

public class StrictJsonTests
{
    [Theory]
    [InlineData("""{"a\uD800": 1}""")]
    [InlineData("""{"a": ["x", {"b": "\udfff"}]}""")]
    [InlineData("""["\uDBFF\u0041"]""")]
    public void AnUnpairedSurrogateEscapeFailsAtParseTime(string json) =>
        Assert.Throws<JsonException>(() => StrictJson.Parse(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("""{"smile": "\uD83D\uDE00", "path": "C:\\ud"}""", "smile", "\U0001F600")]
    [InlineData("""{"text": "\\uD800 is only quoted"}""", "text", "\\uD800 is only quoted")]
    public void PairedSurrogatesAndEscapedBackslashesStillRead(string json, string name, string expected)
    {
        using var document = StrictJson.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Equal(expected, document.RootElement.GetProperty(name).GetString());
    }

    [Fact]
    public void ParseObjectNamesWhatIsNotAnObject()
    {
        Assert.Null(StrictJson.ParseObject("null", "settings.json"));
        Assert.Equal(3, (int)StrictJson.ParseObject("""{"n": 3}""", "settings.json")!["n"]!);
        var e = Assert.Throws<FormatException>(() => StrictJson.ParseObject("[1]", "settings.json"));
        Assert.Equal("settings.json is a JSON array, not an object", e.Message);
    }
}
