namespace NativeSeg.Cli.Rendering;

/// <summary>A 3×5 pixel font (upper-case letters, digits, '.', '-', space) for overlay labels, so the CLI needs no font files.</summary>
internal static class BitmapFont
{
    public const int GlyphWidth = 3, GlyphHeight = 5;

    // 15 bits per glyph, rows top to bottom, three columns each.
    private static readonly Dictionary<char, string> Glyphs = new()
    {
        ['0'] = "111101101101111", ['1'] = "010110010010111", ['2'] = "111001111100111", ['3'] = "111001111001111",
        ['4'] = "101101111001001", ['5'] = "111100111001111", ['6'] = "111100111101111", ['7'] = "111001001001001",
        ['8'] = "111101111101111", ['9'] = "111101111001111", ['.'] = "000000000000010", ['-'] = "000000111000000",
        [' '] = "000000000000000",
        ['A'] = "010101111101101", ['B'] = "110101110101110", ['C'] = "011100100100011", ['D'] = "110101101101110",
        ['E'] = "111100110100111", ['F'] = "111100110100100", ['G'] = "011100101101011", ['H'] = "101101111101101",
        ['I'] = "111010010010111", ['J'] = "001001001101010", ['K'] = "101101110101101", ['L'] = "100100100100111",
        ['M'] = "101111111101101", ['N'] = "110101101101101", ['O'] = "010101101101010", ['P'] = "110101110100100",
        ['Q'] = "010101101110011", ['R'] = "110101110101101", ['S'] = "011100010001110", ['T'] = "111010010010010",
        ['U'] = "101101101101111", ['V'] = "101101101101010", ['W'] = "101101111111101", ['X'] = "101101010101101",
        ['Y'] = "101101010010010", ['Z'] = "111001010100111",
    };

    /// <summary>Whether pixel (x, y) of <paramref name="c"/>'s glyph is set; characters without a glyph draw as blanks.</summary>
    public static bool IsSet(char c, int x, int y) =>
        Glyphs.TryGetValue(char.ToUpperInvariant(c), out var g) && g[y * GlyphWidth + x] == '1';
}
