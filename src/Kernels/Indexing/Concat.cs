using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>torch.cat along any dimension, for any dtype: every input has the output's shape except along that dimension.</summary>
public static class Concat
{
    private const string Op = "concat";

    public static Tensor Forward(IReadOnlyList<Tensor> inputs, int dim)
    {
        Check.That(inputs.Count > 0, Op, "needs at least one input");
        var first = inputs[0];
        int rank = first.Rank;
        Check.That(rank > 0, Op, $"inputs must have at least one dimension, got {first.Shape}");
        Check.That(dim >= -rank && dim < rank, Op, $"dim {dim} outside inputs of rank {rank} ({first.Shape})");
        if (dim < 0) dim += rank;
        long total = 0;
        foreach (var t in inputs)
        {
            Check.That(t.Rank == rank && t.DType == first.DType, Op,
                $"input {t.Shape} {t.DType.Name()} does not match {first.Shape} {first.DType.Name()}");
            for (int d = 0; d < rank; d++)
            {
                Check.That(d == dim || t.Shape[d] == first.Shape[d], Op,
                    $"input {t.Shape} differs from {first.Shape} outside dim {dim}");
            }
            total += t.Shape[dim];
        }
        Check.SameDevice(Op, [.. inputs]);
        Check.That(total <= int.MaxValue, Op, $"{total} elements along dim {dim} overflow a dimension");
        var y = Tensor.Empty(first.Shape.WithDim(dim, (int)total), first.DType, first.Device);
        if (y.Numel == 0) return y;

        long outer = 1;
        for (int d = 0; d < dim; d++) outer *= first.Shape[d];
        long dstRow = y.Numel / outer * y.DType.SizeOf();
        long offset = 0;
        foreach (var t in inputs)
        {
            long srcRow = t.Numel / outer * t.DType.SizeOf();
            RowBlockCopy.Run(t, y, outer, srcRow, srcRow, 0, dstRow, offset);
            offset += srcRow;
        }
        return y;
    }
}
