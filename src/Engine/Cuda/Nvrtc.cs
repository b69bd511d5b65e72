using System.Runtime.InteropServices;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Native;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// NVRTC, the runtime CUDA C++ compiler, through function pointers: the soname (.13, .12, .11.2) is
/// only known at run time. Headers are passed by name with each program, since the NVRTC packages we
/// can rely on ship no CUDA headers.
/// </summary>
public sealed unsafe class Nvrtc
{
    private const int Success = 0;

    private static readonly Lock Gate = new();
    private static Nvrtc? _loaded;

    private readonly delegate* unmanaged[Cdecl]<int, byte*> _getErrorString;
    private readonly delegate* unmanaged[Cdecl]<int*, int*, int> _version;
    private readonly delegate* unmanaged[Cdecl]<int*, int> _getNumSupportedArchs;
    private readonly delegate* unmanaged[Cdecl]<int*, int> _getSupportedArchs;
    private readonly delegate* unmanaged[Cdecl]<nint*, byte*, byte*, int, byte**, byte**, int> _createProgram;
    private readonly delegate* unmanaged[Cdecl]<nint*, int> _destroyProgram;
    private readonly delegate* unmanaged[Cdecl]<nint, int, byte**, int> _compileProgram;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint*, int> _getProgramLogSize;
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, int> _getProgramLog;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint*, int> _getCubinSize;
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, int> _getCubin;

    private Nvrtc(ProbeResult library)
    {
        Library = library;
        var e = new Exports(library);
        _getErrorString = (delegate* unmanaged[Cdecl]<int, byte*>)e.Require("nvrtcGetErrorString");
        _version = (delegate* unmanaged[Cdecl]<int*, int*, int>)e.Require("nvrtcVersion");
        _getNumSupportedArchs = (delegate* unmanaged[Cdecl]<int*, int>)e.Require("nvrtcGetNumSupportedArchs");
        _getSupportedArchs = (delegate* unmanaged[Cdecl]<int*, int>)e.Require("nvrtcGetSupportedArchs");
        _createProgram = (delegate* unmanaged[Cdecl]<nint*, byte*, byte*, int, byte**, byte**, int>)e.Require("nvrtcCreateProgram");
        _destroyProgram = (delegate* unmanaged[Cdecl]<nint*, int>)e.Require("nvrtcDestroyProgram");
        _compileProgram = (delegate* unmanaged[Cdecl]<nint, int, byte**, int>)e.Require("nvrtcCompileProgram");
        _getProgramLogSize = (delegate* unmanaged[Cdecl]<nint, nuint*, int>)e.Require("nvrtcGetProgramLogSize");
        _getProgramLog = (delegate* unmanaged[Cdecl]<nint, byte*, int>)e.Require("nvrtcGetProgramLog");
        _getCubinSize = (delegate* unmanaged[Cdecl]<nint, nuint*, int>)e.Require("nvrtcGetCUBINSize");
        _getCubin = (delegate* unmanaged[Cdecl]<nint, byte*, int>)e.Require("nvrtcGetCUBIN");

        int major, minor;
        Check(_version(&major, &minor), "nvrtcVersion");
        Version = new Version(major, minor);
        int count;
        Check(_getNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        fixed (int* p = archs) Check(_getSupportedArchs(p), "nvrtcGetSupportedArchs");
        SupportedArchitectures = archs;
    }

    public ProbeResult Library { get; }

    public Version Version { get; }

    /// <summary>Compute capabilities NVRTC can target, e.g. 75, 80, 86, 89, 90.</summary>
    public IReadOnlyList<int> SupportedArchitectures { get; }

    /// <summary>The process-wide NVRTC; throws <see cref="NativeLibraryMissingException"/> naming where it looked.</summary>
    public static Nvrtc Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            var probe = LibraryProbe.Find(NativeLibrarySpec.Nvrtc);
            if (!probe.Found) throw new NativeLibraryMissingException(probe);
            return _loaded = new Nvrtc(probe);
        }
    }

    /// <summary>Compiles one source to a CUBIN for <c>--gpu-architecture=</c> in the options.</summary>
    public byte[] CompileToCubin(KernelSource source, IReadOnlyList<string> options)
    {
        using var strings = new Utf8Strings();
        var headers = source.Headers.ToArray();
        byte** headerTexts = stackalloc byte*[Math.Max(1, headers.Length)];
        byte** headerNames = stackalloc byte*[Math.Max(1, headers.Length)];
        for (int i = 0; i < headers.Length; i++)
        {
            headerNames[i] = strings.Add(headers[i].Key);
            headerTexts[i] = strings.Add(headers[i].Value);
        }
        byte** optionTexts = stackalloc byte*[Math.Max(1, options.Count)];
        for (int i = 0; i < options.Count; i++) optionTexts[i] = strings.Add(options[i]);

        nint raw;
        Check(_createProgram(&raw, strings.Add(source.Code), strings.Add(source.Name), headers.Length, headerTexts, headerNames), "nvrtcCreateProgram");
        using var program = new Program(raw, _destroyProgram);
        int status = _compileProgram(raw, options.Count, optionTexts);
        if (status != Success)
        {
            string log = Log(raw);
            throw new CudaException("nvrtcCompileProgram", status, ErrorName(status), $"{source.Name} did not compile",
                $"options: {string.Join(' ', options)}{Environment.NewLine}{log}");
        }
        nuint size;
        Check(_getCubinSize(raw, &size), "nvrtcGetCUBINSize");
        var cubin = new byte[(int)size];
        fixed (byte* p = cubin) Check(_getCubin(raw, p), "nvrtcGetCUBIN");
        return cubin;
    }

    private string Log(nint program)
    {
        nuint size;
        if (_getProgramLogSize(program, &size) != Success || size <= 1) return "(NVRTC wrote no log)";
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer)
        {
            if (_getProgramLog(program, p) != Success) return "(NVRTC log unreadable)";
        }
        return System.Text.Encoding.UTF8.GetString(buffer, 0, buffer.Length - 1).TrimEnd();
    }

    private string ErrorName(int status) => Marshal.PtrToStringUTF8((nint)_getErrorString(status)) ?? $"nvrtcResult {status}";

    private void Check(int status, string call)
    {
        if (status == Success) return;
        string name = ErrorName(status);
        throw new CudaException(call, status, name, name);
    }

    /// <summary>Owns an nvrtcProgram so that every exit path destroys it.</summary>
    private sealed class Program : SafeHandle
    {
        private readonly delegate* unmanaged[Cdecl]<nint*, int> _destroy;

        public Program(nint value, delegate* unmanaged[Cdecl]<nint*, int> destroy) : base(0, ownsHandle: true)
        {
            handle = value;
            _destroy = destroy;
        }

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            nint h = handle;
            return _destroy(&h) == Success;
        }
    }

    /// <summary>NUL-terminated UTF-8 copies of managed strings, freed together.</summary>
    private sealed class Utf8Strings : IDisposable
    {
        private readonly List<nint> _blocks = [];

        public byte* Add(string text)
        {
            nint p = Marshal.StringToCoTaskMemUTF8(text);
            _blocks.Add(p);
            return (byte*)p;
        }

        public void Dispose()
        {
            foreach (nint p in _blocks) Marshal.FreeCoTaskMem(p);
        }
    }
}
