namespace NativeSeg.Cli.Parsing;

/// <summary>
/// The message a user sees for an exception no command handled itself: the cause, not the wrapper
/// ("One or more errors occurred"), and file errors phrased with the path first.
/// </summary>
internal static class ErrorText
{
    public static string Of(Exception e)
    {
        e = Unwrap(e);
        return e switch
        {
            AggregateException many => string.Join("; ", many.InnerExceptions.Select(Of).Distinct(StringComparer.Ordinal)),
            FileNotFoundException { FileName: { } file } => $"{file}: no such file",
            ArgumentException { ParamName: { } name } a => a.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal),
            _ => e.Message,
        };
    }

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException aggregate)
            {
                var flat = aggregate.Flatten();
                if (flat.InnerExceptions.Count != 1) return flat;
                e = flat.InnerExceptions[0];
            }
            else if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
            else return e;
        }
    }
}
