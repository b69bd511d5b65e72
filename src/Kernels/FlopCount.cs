namespace NativeSeg.Kernels;

/// <summary>
/// Counts, while open, the floating-point operations of the GEMM-shaped forward kernels (conv2d, conv_transpose2d,
/// deformable conv2d, linear) that the thread which opened it calls: 2 per multiply-add of the direct method, from the
/// shapes of each call, whatever algorithm ran; Winograd's count is the direct convolution's (effective FLOPs). What
/// `bench model` divides by a stage's time. Counts nest: an inner count's operations are also added to the outer ones.
/// </summary>
public sealed class FlopCount : IDisposable
{
    [ThreadStatic] private static FlopCount? t_current;

    private readonly FlopCount? _outer;
    private bool _disposed;

    private FlopCount(FlopCount? outer) => _outer = outer;

    /// <summary>Operations counted since <see cref="Begin"/>.</summary>
    public long Flops { get; private set; }

    /// <summary>Starts counting on this thread.</summary>
    public static FlopCount Begin() => t_current = new FlopCount(t_current);

    /// <summary>The innermost count open on this thread, if any.</summary>
    public static FlopCount? Current => t_current;

    /// <summary>Adds a kernel call of <paramref name="multiplyAdds"/> multiply-adds to every count open on this thread.</summary>
    internal static void AddMultiplyAdds(long multiplyAdds)
    {
        for (var count = t_current; count is not null; count = count._outer) count.Flops += 2 * multiplyAdds;
    }

    /// <summary>Stops counting; counts must end innermost first.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(t_current, this))
            throw new InvalidOperationException("flop counts must end innermost first, on the thread that began them");
        _disposed = true;
        t_current = _outer;
    }
}
