using System.Runtime.InteropServices;
using System.Text;

namespace NativeSeg.Native;

/// <summary>
/// ns_last_error's per-thread message: a NUL-terminated UTF-8 copy in native memory that stays valid until the
/// thread's next failing call, so a C caller can print it without copying.
/// </summary>
internal static unsafe class LastError
{
    [ThreadStatic] private static byte* _message;

    private static readonly byte* Empty = (byte*)NativeMemory.AllocZeroed(1);

    public static byte* Current => _message is null ? Empty : _message;

    public static void Set(string message)
    {
        int length = Encoding.UTF8.GetByteCount(message);
        var copy = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(message, new Span<byte>(copy, length));
        copy[length] = 0;
        NativeMemory.Free(_message);
        _message = copy;
    }
}
