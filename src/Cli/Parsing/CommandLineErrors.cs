using System.CommandLine;
using System.CommandLine.Parsing;

namespace NativeSeg.Cli.Parsing;

/// <summary>What is wrong with a parsed command line, as messages that name the option or input at fault.</summary>
internal static class CommandLineErrors
{
    public static List<string> Of(ParseResult result)
    {
        // An unknown option also makes the argument that swallowed it and its value look wrong; it is the one cause to name.
        var unknown = OptionLikeArguments(result).Select(token => $"unknown option {token} (a file whose name starts with - is written ./{token})").ToList();
        return (unknown.Count > 0 ? unknown : result.Errors.Select(Worded)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>A value of the wrong type, in the user's terms rather than the .NET type's name ('System.Nullable`1[System.Single]').</summary>
    private static string Worded(ParseError error)
    {
        if (!error.Message.StartsWith("Cannot parse argument", StringComparison.Ordinal) || error.SymbolResult is not { } symbol) return error.Message;
        var (name, type) = symbol switch
        {
            OptionResult o => (o.Option.Name, o.Option.ValueType),
            ArgumentResult a => ($"<{a.Argument.Name}>", a.Argument.ValueType),
            _ => (null, null),
        };
        if (name is null || type is null) return error.Message;
        type = Nullable.GetUnderlyingType(type) ?? type;
        string expected = type == typeof(float) || type == typeof(double) ? "a number"
            : type == typeof(int) || type == typeof(long) || type == typeof(ulong) ? "a whole number"
            : type == typeof(bool) ? "true or false"
            : "a value of another form";
        return $"{name} must be {expected}, got {string.Join(" ", symbol.Tokens.Select(t => t.Value))}";
    }

    public static string CommandPath(ParseResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result.CommandResult; r is CommandResult c; r = c.Parent) names.Add(c.Command.Name);
        names[^1] = "nativeseg";
        names.Reverse();
        return string.Join(" ", names);
    }

    /// <summary>
    /// Tokens an argument took that look like options: System.CommandLine gives an unknown "--conf" to an argument
    /// that still has room, so `segment img.jpg --conf 0.5` would read "--conf" as an image. "-" (standard input)
    /// and anything after "--" are arguments.
    /// </summary>
    private static IEnumerable<string> OptionLikeArguments(ParseResult result)
    {
        int doubleDash = result.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
        var literal = doubleDash < 0 ? [] : result.Tokens.Skip(doubleDash + 1).ToHashSet(ReferenceEqualityComparer.Instance);
        for (SymbolResult? r = result.CommandResult; r is CommandResult command; r = command.Parent)
            foreach (var argument in command.Children.OfType<ArgumentResult>())
                foreach (var token in argument.Tokens)
                    if (token.Value.Length > 1 && token.Value[0] == '-' && !literal.Contains(token)) yield return token.Value;
    }
}
