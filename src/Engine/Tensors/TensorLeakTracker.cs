using System.Collections.Concurrent;
using System.Diagnostics;

namespace NativeSeg.Engine.Tensors;

/// <summary>
/// Records the tensors alive in the process and, on request, where each was created, so a test can prove that
/// a forward pass, a training step or 10,000 inferences leave nothing behind. On in Debug builds, when
/// NATIVESEG_TRACK_TENSORS is set (to "stacks" for creation stack traces), or after <see cref="Enable"/>;
/// off, it costs one branch per tensor.
/// </summary>
public static class TensorLeakTracker
{
    private static readonly ConcurrentDictionary<Tensor, Record> Alive = new(ReferenceEqualityComparer.Instance);
    private static long s_sequence;
    private static volatile bool s_enabled;
    private static volatile bool s_stacks;

    static TensorLeakTracker()
    {
        var setting = Environment.GetEnvironmentVariable("NATIVESEG_TRACK_TENSORS");
        s_stacks = setting == "stacks";
#if DEBUG
        s_enabled = setting != "0";
#else
        s_enabled = !string.IsNullOrEmpty(setting) && setting != "0";
#endif
    }

    /// <summary>Starts tracking tensors created from now on; <paramref name="stacks"/> also records where.</summary>
    public static void Enable(bool stacks = false)
    {
        s_stacks = stacks;
        s_enabled = true;
    }

    /// <summary>
    /// Watches the tensors this thread creates from now on; <see cref="Watch.Leaked"/> lists those still alive.
    /// Per thread, so tests running in parallel do not see each other's tensors.
    /// </summary>
    public static Watch Begin()
    {
        if (!s_enabled) throw new InvalidOperationException("tensor leak tracking is off: call TensorLeakTracker.Enable() or set NATIVESEG_TRACK_TENSORS=1");
        return new Watch(Environment.CurrentManagedThreadId, Interlocked.Read(ref s_sequence));
    }

    internal static void Created(Tensor tensor)
    {
        if (!s_enabled) return;
        Alive[tensor] = new Record(Environment.CurrentManagedThreadId, Interlocked.Increment(ref s_sequence),
            s_stacks ? new StackTrace(2, false).ToString() : "");
    }

    internal static void Disposed(Tensor tensor)
    {
        if (s_enabled) Alive.TryRemove(tensor, out _);
    }

    private readonly record struct Record(int Thread, long Sequence, string Stack);

    /// <summary>A window over one thread's tensor creations.</summary>
    public sealed class Watch
    {
        private readonly int _thread;
        private readonly long _after;

        internal Watch(int thread, long after)
        {
            _thread = thread;
            _after = after;
        }

        /// <summary>Tensors created on the watching thread since the watch began and not disposed, described with their creation site when recorded.</summary>
        public IReadOnlyList<string> Leaked() => Alive
            .Where(kv => kv.Value.Thread == _thread && kv.Value.Sequence > _after)
            .OrderBy(kv => kv.Value.Sequence)
            .Select(kv => kv.Value.Stack.Length == 0 ? kv.Key.ToString() : $"{kv.Key} created at\n{kv.Value.Stack}")
            .ToList();
    }
}
