namespace NativeSeg.Tests.Cli;

/// <summary>
/// A test that starts a single-node Slurm (build/slurm/local-cluster.sh): it needs root and Debian's slurm-wlm and
/// munge. Skipped where they are missing, except under CI=true, where build/install-deps.sh installs them and the
/// test runs and fails with what is missing.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    private static readonly string[] Daemons = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"];

    public SlurmFactAttribute()
    {
        if (Missing() is { } missing && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Skip = $"{missing} (build/install-deps.sh installs slurm-wlm and munge; under CI=true this fails instead)";
    }

    public static string? Missing()
    {
        var absent = Daemons.Where(d => !File.Exists(d)).ToList();
        if (absent.Count > 0) return $"Slurm is not installed ({string.Join(", ", absent)} missing)";
        return Environment.UserName == "root" ? null : "a local Slurm runs its daemons as root, and the tests do not run as root";
    }
}
