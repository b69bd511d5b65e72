using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NativeSeg.Cli.Inputs;

/// <summary>
/// `--shard I/N`: the inputs whose relative path hashes to I modulo N. A hash of the path rather than the
/// position keeps each image in its shard when images are added, removed or listed in another order, and the
/// relative path rather than the full one keeps it there when the data is mounted elsewhere. SHA-256 is used
/// for its fixed definition (string.GetHashCode differs between processes) and its even spread.
/// </summary>
internal sealed record Shard(int Index, int Count)
{
    public static readonly Shard All = new(0, 1);

    public override string ToString() => $"{Index}/{Count}";

    public bool Contains(string relativePath)
    {
        if (Count == 1) return true;
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(relativePath), digest);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(digest) % (ulong)Count) == Index;
    }

    /// <summary>"I/N" with 0 ≤ I &lt; N, or "slurm" for the array task's; null after saying on <paramref name="error"/> what is wrong.</summary>
    public static Shard? Parse(string spec, Func<string, string?> environment, out string? error)
    {
        error = null;
        if (spec == "slurm") return FromSlurm(environment, out error);
        string[] parts = spec.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1 && index < count)
            return new(index, count);
        error = $"--shard must be I/N with 0 <= I < N (e.g. 0/4 for the first of four shards) or slurm, got {spec}";
        return null;
    }

    /// <summary>
    /// The array task's shard: task ids run from SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP, so
    /// --array=1-4 and --array=0-6:2 give shards 0..3 of 4 as --array=0-3 does.
    /// </summary>
    private static Shard? FromSlurm(Func<string, string?> environment, out string? error)
    {
        error = null;
        long? id = Number("SLURM_ARRAY_TASK_ID"), count = Number("SLURM_ARRAY_TASK_COUNT"), min = Number("SLURM_ARRAY_TASK_MIN"), step = Number("SLURM_ARRAY_TASK_STEP");
        if (id is null || count is not >= 1)
        {
            error = "--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, which Slurm sets in the tasks of a job array (sbatch --array=0-N); "
                + $"got SLURM_ARRAY_TASK_ID={environment("SLURM_ARRAY_TASK_ID") ?? "(unset)"}, SLURM_ARRAY_TASK_COUNT={environment("SLURM_ARRAY_TASK_COUNT") ?? "(unset)"}";
            return null;
        }
        long offset = id.Value - (min ?? 0), stride = step is >= 1 ? step.Value : 1;
        if (offset < 0 || offset % stride != 0 || offset / stride >= count)
        {
            error = $"--shard slurm: array task {id} is not one of {count} evenly spaced tasks from {min ?? 0} in steps of {stride} "
                + "(SLURM_ARRAY_TASK_MIN/STEP/COUNT); submit the array as --array=0-N or A-B:S";
            return null;
        }
        return new((int)(offset / stride), (int)count.Value);

        long? Number(string name) =>
            long.TryParse(environment(name), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : null;
    }
}
