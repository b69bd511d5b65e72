using System.Runtime.InteropServices;
using NativeSeg.Api;

namespace NativeSeg.Native;

/// <summary>
/// An ns_result: the instances of one image, and the full-image masks handed out so far. A mask is decoded
/// from its run-length encoding on the first ns_result_get of its instance and lives until ns_result_free.
/// </summary>
internal sealed unsafe class NativeResult(Segmentation segmentation) : IDisposable
{
    private readonly byte*[] _masks = new byte*[segmentation.Count];
    private readonly Lock _gate = new();
    private bool _disposed;

    public Segmentation Segmentation { get; } = segmentation;

    public byte* Mask(int index)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_masks[index] is null)
            {
                byte[] pixels = Segmentation[index].MaskPixels();
                var copy = (byte*)NativeMemory.Alloc((nuint)pixels.Length);
                pixels.CopyTo(new Span<byte>(copy, pixels.Length));
                _masks[index] = copy;
            }
            return _masks[index];
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            for (int i = 0; i < _masks.Length; i++)
            {
                NativeMemory.Free(_masks[i]);
                _masks[i] = null;
            }
        }
    }
}
