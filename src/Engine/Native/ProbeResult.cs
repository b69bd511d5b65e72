namespace NativeSeg.Engine.Native;

/// <summary>One place a library was looked for, and what happened there.</summary>
public sealed record ProbeAttempt(string Candidate, string Outcome)
{
    public override string ToString() => $"{Candidate}: {Outcome}";
}

/// <summary>
/// Where a library was found (path and handle), or every place it was looked for, so a failure can
/// say exactly what was tried. Loaded handles are never freed: the process keeps using them.
/// </summary>
public sealed class ProbeResult
{
    internal ProbeResult(NativeLibrarySpec spec, string? path, nint handle, IReadOnlyList<ProbeAttempt> attempts)
    {
        Spec = spec;
        Path = path;
        Handle = handle;
        Attempts = attempts;
    }

    public NativeLibrarySpec Spec { get; }

    public bool Found => Handle != 0;

    /// <summary>The file the loader opened (as the loader names it: symlinks are not resolved).</summary>
    public string? Path { get; }

    public nint Handle { get; }

    public IReadOnlyList<ProbeAttempt> Attempts { get; }

    /// <summary>
    /// e.g. "libcuda.so.1 not found in /opt/x, /usr/local/cuda/lib64, default loader search", followed by
    /// the loader's reason for every candidate that was there but failed to load.
    /// </summary>
    public string DescribeMissing()
    {
        var places = Attempts.Select(a => Place(a.Candidate)).Distinct();
        // A file that exists but will not load (wrong architecture, missing dependency) is the likely culprit.
        var failures = Attempts.Where(a => a.Outcome != "absent").Select(a => $"; {a}");
        return $"{string.Join(" / ", Spec.Sonames)} not found in {string.Join(", ", places)}{string.Concat(failures)}";
    }

    /// <summary>The attempts one per line, for diagnostics.</summary>
    public string DescribeAttempts() => string.Join(Environment.NewLine, Attempts.Select(a => "  " + a));

    private string Place(string candidate)
    {
        string? folder = System.IO.Path.GetDirectoryName(candidate);
        return string.IsNullOrEmpty(folder) ? LibraryProbe.DefaultSearchLabel : folder;
    }
}
