using System.Runtime.InteropServices;

namespace NativeSeg.Native;

/// <summary>ns_instance of nativeseg.h, field for field (40 bytes on 64-bit hosts).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeInstance
{
    public float X1, Y1, X2, Y2;
    public float Score;
    public int CategoryId;
    public int MaskWidth, MaskHeight;
    public byte* Mask;
}
