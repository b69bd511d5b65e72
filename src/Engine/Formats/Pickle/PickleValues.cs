using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Pickle;

// The inert values the unpickler builds. Python None, bool, int, float and str map to null, bool,
// long, double and string; bytes to ReadOnlyMemory<byte> (a slice of the input, never copied);
// list to List<object?>. The rest are the classes below. Nothing here can run code.

/// <summary>A Python tuple.</summary>
public sealed class PickleTuple(object?[] items)
{
    public object?[] Items { get; } = items;

    public int Count => Items.Length;

    public object? this[int index] => Items[index];

    public override string ToString() => $"tuple of {Items.Length}";
}

/// <summary>
/// A Python dict or OrderedDict, keeping insertion order. A reference type on purpose: the memo and
/// the stack must see the same instance when SETITEMS fills it later.
/// </summary>
public sealed class PickleDict
{
    private readonly Dictionary<object, int> _index = new(KeyComparer.Instance);
    private readonly List<KeyValuePair<object, object?>> _items = [];

    public int Count => _items.Count;

    public IReadOnlyList<KeyValuePair<object, object?>> Items => _items;

    /// <summary>Python semantics: a repeated key keeps its first position and takes the new value.</summary>
    public void Set(object key, object? value)
    {
        if (_index.TryGetValue(key, out int at)) _items[at] = new(key, value);
        else
        {
            _index.Add(key, _items.Count);
            _items.Add(new(key, value));
        }
    }

    public bool TryGet(object key, out object? value)
    {
        if (_index.TryGetValue(key, out int at))
        {
            value = _items[at].Value;
            return true;
        }
        value = null;
        return false;
    }

    public override string ToString() => $"dict of {_items.Count}";

    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? a, object? b)
        {
            if (a is PickleTuple ta && b is PickleTuple tb)
            {
                if (ta.Count != tb.Count) return false;
                for (int i = 0; i < ta.Count; i++)
                {
                    if (!Equals(ta[i] ?? NoneKey, tb[i] ?? NoneKey)) return false;
                }
                return true;
            }
            return object.Equals(a, b);
        }

        public int GetHashCode(object o)
        {
            if (o is not PickleTuple t) return o.GetHashCode();
            var h = new HashCode();
            foreach (var item in t.Items) h.Add(GetHashCode(item ?? NoneKey));
            return h.ToHashCode();
        }
    }

    /// <summary>Stands for None as a dictionary key, since .NET dictionaries refuse null keys.</summary>
    internal static readonly object NoneKey = new();
}

/// <summary>A Python set or frozenset.</summary>
public sealed class PickleSet
{
    public List<object?> Items { get; } = [];
}

/// <summary>A class or function named by GLOBAL / STACK_GLOBAL that passed the allow-list.</summary>
public sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";

    public override string ToString() => FullName;
}

/// <summary>A torch storage named by a persistent id: <c>("storage", type, key, location, numel)</c>.</summary>
public sealed record TorchStorageRef(string Key, TorchElementType ElementType, long Numel, string Location);

/// <summary>The arguments of <c>torch._utils._rebuild_tensor_v2</c>: a strided view of a storage, in elements.</summary>
public sealed record TorchTensorRef(TorchStorageRef Storage, long StorageOffset, long[] Size, long[] Stride);

/// <summary>Element types of torch storages and numpy arrays as stored; <see cref="PickleDTypes"/> says what each loads as.</summary>
public enum TorchElementType
{
    Float32,
    Float64,
    Float16,
    BFloat16,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

/// <summary>A numpy dtype: element type and byte order ('&lt;', '&gt;', '|' or '=').</summary>
public sealed class NumpyDType(TorchElementType elementType, string code)
{
    public TorchElementType ElementType { get; } = elementType;

    public string Code { get; } = code;

    public char ByteOrder { get; set; } = '=';

    public bool BigEndian => ByteOrder == '>';
}

/// <summary>A numpy ndarray: filled by BUILD after <c>_reconstruct</c>, or directly by <c>_frombuffer</c> / <c>scalar</c>.</summary>
public sealed class NumpyArray
{
    public long[] Shape { get; set; } = [0];

    public NumpyDType? DType { get; set; }

    public bool Fortran { get; set; }

    public ReadOnlyMemory<byte> Data { get; set; }

    public bool Built { get; set; }
}

public static class PickleDTypes
{
    public static int SizeOf(TorchElementType t) => t switch
    {
        TorchElementType.Float64 or TorchElementType.Int64 => 8,
        TorchElementType.Float32 or TorchElementType.Int32 => 4,
        TorchElementType.Float16 or TorchElementType.BFloat16 or TorchElementType.Int16 => 2,
        _ => 1,
    };

    /// <summary>
    /// The engine dtype a stored element type loads as. F64 and BF16 become F32 (the engine computes in
    /// F32/F16; F64 weights come from old Caffe2 pickles), bool becomes U8; int8/int16 are refused.
    /// </summary>
    public static DType? LoadsAs(TorchElementType t) => t switch
    {
        TorchElementType.Float32 or TorchElementType.Float64 or TorchElementType.BFloat16 => DType.Float32,
        TorchElementType.Float16 => DType.Float16,
        TorchElementType.Int64 => DType.Int64,
        TorchElementType.Int32 => DType.Int32,
        TorchElementType.UInt8 or TorchElementType.Bool => DType.UInt8,
        _ => null,
    };
}
