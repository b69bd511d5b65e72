namespace NativeSeg.Engine.Tensors;

/// <summary>Immutable list of dimension sizes; tensors are always contiguous (row-major, NCHW).</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? _dims;

    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"shape {Format(dims)} has a negative dimension");
        }
        _dims = (int[])dims.Clone();
    }

    public int Rank => _dims?.Length ?? 0;

    public int this[int axis] => _dims![axis < 0 ? axis + Rank : axis];

    public ReadOnlySpan<int> Dims => _dims;

    public long Numel
    {
        get
        {
            long n = 1;
            if (_dims is null) return n;
            foreach (int d in _dims) n = checked(n * d);
            return n;
        }
    }

    /// <summary>Number of elements in one slice along the first dimension.</summary>
    public long InnerSize
    {
        get
        {
            long n = 1;
            for (int i = 1; i < Rank; i++) n = checked(n * _dims![i]);
            return n;
        }
    }

    public Shape WithDim(int axis, int size)
    {
        var dims = (int[])_dims!.Clone();
        dims[axis < 0 ? axis + Rank : axis] = size;
        return new Shape(dims);
    }

    public int[] ToArray() => _dims is null ? [] : (int[])_dims.Clone();

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public static implicit operator Shape(int[] dims) => new(dims);

    public override string ToString() => Format(_dims ?? []);

    private static string Format(int[] dims) => "[" + string.Join(", ", dims) + "]";
}
