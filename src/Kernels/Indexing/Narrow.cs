using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>torch.narrow(x, dim, start, length), copied into a new contiguous tensor; any dtype. Concat's backward.</summary>
public static class Narrow
{
    private const string Op = "narrow";

    public static Tensor Forward(Tensor x, int dim, int start, int length)
    {
        int rank = x.Rank;
        Check.That(rank > 0, Op, $"input must have at least one dimension, got {x.Shape}");
        Check.That(dim >= -rank && dim < rank, Op, $"dim {dim} outside an input of rank {rank} ({x.Shape})");
        if (dim < 0) dim += rank;
        Check.That(start >= 0 && length >= 0 && (long)start + length <= x.Shape[dim], Op,
            $"[{start}, {(long)start + length}) is not inside dim {dim} of {x.Shape}");
        var y = Tensor.Empty(x.Shape.WithDim(dim, length), x.DType, x.Device);
        if (y.Numel == 0) return y;
        long outer = 1;
        for (int d = 0; d < dim; d++) outer *= x.Shape[d];
        long srcRow = x.Numel / outer * x.DType.SizeOf();
        long dstRow = y.Numel / outer * y.DType.SizeOf();
        long offset = srcRow / x.Shape[dim] * start;
        RowBlockCopy.Run(x, y, outer, dstRow, srcRow, offset, dstRow, 0);
        return y;
    }
}
