using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// Owns one native object (stream, event, module, cuDNN descriptor) and destroys it with the matching
/// call, which returns 0 on success in every CUDA library. A release on the finalizer path only ever
/// happens for a leak; its status is then ignored.
/// </summary>
internal sealed unsafe class NativeHandle : SafeHandle
{
    private readonly delegate* unmanaged[Cdecl]<nint, int> _destroy;

    public NativeHandle(nint value, delegate* unmanaged[Cdecl]<nint, int> destroy) : base(0, ownsHandle: true)
    {
        handle = value;
        _destroy = destroy;
    }

    public override bool IsInvalid => handle == 0;

    public nint Value => handle;

    protected override bool ReleaseHandle() => _destroy(handle) == 0;
}
