using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace NativeSeg.Native;

/// <summary>
/// Opaque C handles for managed objects of one kind. Every live handle is registered, so NULL, a handle of
/// another kind and a freed handle are reported instead of dereferenced (a freed handle whose address was
/// reused for a new object of the same kind is the one case no registry can tell apart).
/// </summary>
internal sealed class Handles<T>(string kind) where T : class
{
    private readonly ConcurrentDictionary<nint, T> _live = new();

    public nint Add(T target)
    {
        var handle = GCHandle.ToIntPtr(GCHandle.Alloc(target));
        _live[handle] = target;
        return handle;
    }

    /// <exception cref="ArgumentException">The handle is NULL, freed or not a <paramref name="kind"/>.</exception>
    public T Get(nint handle, string parameter) =>
        _live.TryGetValue(handle, out var target) ? target : throw Invalid(handle, parameter);

    /// <summary>Unregisters the handle and returns its object, which the caller disposes.</summary>
    public T Remove(nint handle, string parameter)
    {
        if (!_live.TryRemove(handle, out var target)) throw Invalid(handle, parameter);
        GCHandle.FromIntPtr(handle).Free();
        return target;
    }

    private ArgumentException Invalid(nint handle, string parameter) => handle == 0
        ? new ArgumentException($"{parameter} is NULL")
        : new ArgumentException($"{parameter} (0x{handle:x}) is not a live {kind}: freed already, or never returned by NativeSeg");
}
