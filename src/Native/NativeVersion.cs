namespace NativeSeg.Native;

/// <summary>What ns_version returns; the header's NS_VERSION must say the same (a test compares them).</summary>
internal static class NativeVersion
{
    public static ReadOnlySpan<byte> Utf8 => "0.5.0\0"u8;
}
