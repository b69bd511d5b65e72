using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Native;

/// <summary>
/// Finds native libraries by versioned soname: first in the folders of NATIVESEG_CUDA_LIB_PATH
/// (colon-separated; e.g. the nvidia/*/lib folders of a pip-installed PyTorch), then in the usual
/// system folders, then through the loader's own search (LD_LIBRARY_PATH, ld.so.cache).
/// </summary>
public static class LibraryProbe
{
    public const string PathVariable = "NATIVESEG_CUDA_LIB_PATH";

    internal const string DefaultSearchLabel = "default loader search";

    private const int RtldDiLinkmap = 2;

    private static readonly Lazy<nint> DlInfo = new(FindDlInfo);

    private static readonly string[] SystemFolders =
    [
        "/usr/local/cuda/lib64",
        "/usr/local/nvidia/lib64",
        "/usr/lib/x86_64-linux-gnu",
    ];

    /// <summary>The folders searched before the loader's own search, in order.</summary>
    public static IReadOnlyList<string> Folders()
    {
        string? env = Environment.GetEnvironmentVariable(PathVariable);
        var user = (env ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return user.Concat(SystemFolders).Distinct(StringComparer.Ordinal).ToArray();
    }

    public static ProbeResult Find(NativeLibrarySpec spec)
    {
        var attempts = new List<ProbeAttempt>();
        foreach (string folder in Folders())
        {
            foreach (string soname in spec.Sonames)
            {
                string candidate = Path.Combine(folder, soname);
                if (!File.Exists(candidate))
                {
                    attempts.Add(new(candidate, "absent"));
                    continue;
                }
                if (TryLoad(candidate, attempts, out nint handle))
                    return new ProbeResult(spec, LoadedPath(handle) ?? candidate, handle, attempts);
            }
        }
        foreach (string soname in spec.Sonames)
        {
            if (TryLoad(soname, attempts, out nint handle))
                return new ProbeResult(spec, LoadedPath(handle) ?? soname, handle, attempts);
        }
        return new ProbeResult(spec, null, 0, attempts);
    }

    private static bool TryLoad(string candidate, List<ProbeAttempt> attempts, out nint handle)
    {
        try
        {
            handle = NativeLibrary.Load(candidate);
            attempts.Add(new(candidate, "loaded"));
            return true;
        }
        catch (DllNotFoundException e)
        {
            attempts.Add(new(candidate, Outcome(candidate, e.Message)));
            handle = 0;
            return false;
        }
    }

    /// <summary>
    /// dlerror's reason (wrong architecture, a missing dependency...) without .NET's boilerplate first line
    /// ("Unable to load shared library ... consider setting the LD_DEBUG environment variable:"), which
    /// says nothing about this library. A bare soname the loader's search cannot open is simply absent.
    /// </summary>
    internal static string Outcome(string candidate, string message)
    {
        var lines = message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var reasons = lines.Skip(1).Distinct(StringComparer.Ordinal).ToArray();
        if (reasons.Length == 0) return "load failed: " + (lines.FirstOrDefault() ?? "no reason given");
        // Only when the loader names the candidate itself: the same words about a dependency mean the library is there.
        bool bare = !candidate.Contains('/');
        if (bare && reasons.All(r => r.StartsWith(candidate, StringComparison.Ordinal)
                && r.EndsWith(": cannot open shared object file: No such file or directory", StringComparison.Ordinal)))
            return "absent";
        return "load failed: " + string.Join(" / ", reasons);
    }

    /// <summary>The path the dynamic loader opened for a handle (dlinfo RTLD_DI_LINKMAP), when it can tell.</summary>
    private static unsafe string? LoadedPath(nint handle)
    {
        if (DlInfo.Value == 0) return null;
        var dlinfo = (delegate* unmanaged[Cdecl]<nint, int, void*, int>)DlInfo.Value;
        nint* linkMap = null;
        if (dlinfo(handle, RtldDiLinkmap, &linkMap) != 0 || linkMap == null) return null;
        // struct link_map starts { ElfW(Addr) l_addr; char* l_name; ... } on every glibc.
        string? name = Marshal.PtrToStringUTF8(linkMap[1]);
        return string.IsNullOrEmpty(name) ? null : name;
    }

    private static nint FindDlInfo()
    {
        // glibc >= 2.34 exports dlinfo from libc; older ones from libdl.
        foreach (string lib in (string[])["libc.so.6", "libdl.so.2"])
        {
            if (NativeLibrary.TryLoad(lib, out nint h) && NativeLibrary.TryGetExport(h, "dlinfo", out nint f)) return f;
        }
        return 0;
    }
}
