namespace NativeSeg.Cli;

/// <summary>
/// Where `segment` finds the default model when --model is omitted: next to the built nativeseg.dll (the Cli
/// project copies it there), else in weights/ of the repository the command runs from or was built in.
/// </summary>
internal static class DefaultModel
{
    public const string RelativePath = "weights/default.safetensors";

    /// <summary>Every place looked at, in order, so an error can name them.</summary>
    public static IReadOnlyList<string> Candidates()
    {
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, RelativePath) };
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            if (RepositoryRoot(start) is { } root) candidates.Add(Path.Combine(root, RelativePath));
        return candidates.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The error when no --model is given and no default model is found.</summary>
    public static string NotFound => $"no --model given and no default model at {string.Join(" or ", Candidates())}";

    public static string? Find() => Candidates().FirstOrDefault(File.Exists);

    /// <summary>
    /// The model file a --model value names: the file when it exists; else, when the value is the default model's
    /// repository path as the README writes it (weights/default.safetensors), the default model found from any folder.
    /// </summary>
    public static string? Resolve(string? given)
    {
        if (given is null) return Find();
        if (File.Exists(given)) return given;
        string normalized = given.Replace('\\', '/');
        if (normalized.StartsWith("./", StringComparison.Ordinal)) normalized = normalized[2..];
        return normalized == RelativePath ? Find() : null;
    }

    // The solution file marks the root; build outputs can sit anywhere below it (or, with --artifacts-path, outside it).
    private static string? RepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeSeg.sln"))) return dir.FullName;
        return null;
    }
}
