namespace NativeSeg.Engine.Tensors;

/// <summary>Argument checks whose messages name the op and the offending shapes.</summary>
public static class Check
{
    public static void That(bool condition, string op, string message)
    {
        if (!condition) throw new ArgumentException($"{op}: {message}");
    }

    public static void Rank(Tensor t, int rank, string op, string name)
    {
        if (t.Rank != rank) throw new ArgumentException($"{op}: {name} must have {rank} dimensions, got {t.Shape}");
    }

    public static void DType(Tensor t, DType dtype, string op, string name)
    {
        if (t.DType != dtype) throw new ArgumentException($"{op}: {name} must be {dtype.Name()}, got {t.DType.Name()} {t.Shape}");
    }

    public static void SameShape(Tensor a, Tensor b, string op)
    {
        if (a.Shape != b.Shape) throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} differ");
    }

    public static void SameDevice(string op, params Tensor[] tensors)
    {
        foreach (var t in tensors)
        {
            if (!ReferenceEquals(t.Device, tensors[0].Device))
                throw new ArgumentException($"{op}: inputs live on different devices ({tensors[0].Device} and {t.Device})");
        }
    }
}
