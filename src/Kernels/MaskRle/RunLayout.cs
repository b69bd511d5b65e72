using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskRle;

/// <summary>
/// What <see cref="MaskRle.Layout"/> leaves for <see cref="MaskRle.Encode"/>: each row's run count, int32 [R] (0 for
/// the rows at or past the live count), which the host reads to size the encoding, and on a CUDA device where each
/// chunk of a row's words puts its runs, int64 (on the CPU, which encodes each row whole, an empty tensor).
/// </summary>
public sealed class RunLayout(Tensor runs, Tensor chunkOffsets) : IDisposable
{
    public Tensor Runs { get; } = runs;

    internal Tensor ChunkOffsets { get; } = chunkOffsets;

    public void Dispose()
    {
        Runs.Dispose();
        ChunkOffsets.Dispose();
    }
}
