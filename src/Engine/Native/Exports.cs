using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Native;

/// <summary>Symbol lookup in a probed library, failing with the library's name and path.</summary>
internal readonly struct Exports(ProbeResult library)
{
    public nint Require(string symbol) =>
        NativeLibrary.TryGetExport(library.Handle, symbol, out nint address)
            ? address
            : throw new EntryPointNotFoundException($"{library.Spec.DisplayName} at {library.Path} has no export '{symbol}' (too old?)");

    /// <summary>The first of the names that exists (newer versioned symbols first), or 0.</summary>
    public nint Optional(params ReadOnlySpan<string> symbols)
    {
        foreach (string symbol in symbols)
        {
            if (NativeLibrary.TryGetExport(library.Handle, symbol, out nint address)) return address;
        }
        return 0;
    }
}
