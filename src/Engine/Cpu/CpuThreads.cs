namespace NativeSeg.Engine.Cpu;

/// <summary>
/// The CPU backend's thread budget, shared by our loops and OpenBLAS so they never oversubscribe the
/// cores. Set from NATIVESEG_THREADS or the CLI's --threads.
/// </summary>
public static class CpuThreads
{
    private static int _count = ReadDefault();

    public static int Count
    {
        get => _count;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _count = value;
            OpenBlas.SetThreads(value);
        }
    }

    public static ParallelOptions Options => new() { MaxDegreeOfParallelism = _count };

    /// <summary>Runs body(i) for i in [0, count), split into contiguous chunks, one per thread.</summary>
    /// <param name="grain">
    /// The fewest items worth a thread of their own: waking a worker costs microseconds, more than copying a few
    /// thousand small rows.
    /// </param>
    public static void For(int count, Action<int, int> chunk, int grain = 1)
    {
        if (count <= 0) return;
        int workers = Math.Clamp(count / Math.Max(grain, 1), 1, Math.Min(_count, count));
        if (workers == 1)
        {
            chunk(0, count);
            return;
        }
        Parallel.For(0, workers, Options, w =>
        {
            int start = (int)((long)count * w / workers);
            int end = (int)((long)count * (w + 1) / workers);
            if (end > start) chunk(start, end);
        });
    }

    private static int ReadDefault()
    {
        string? env = Environment.GetEnvironmentVariable("NATIVESEG_THREADS");
        return int.TryParse(env, out int n) && n > 0 ? n : Environment.ProcessorCount;
    }
}
