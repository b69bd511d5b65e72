using System.Text;

namespace NativeSeg.Engine.Formats.Pickle;

/// <summary>
/// The only globals a checkpoint pickle may name, and what calling or building each of them means.
/// Each is interpreted here by hand into an inert value, so an allowed name still cannot run code.
/// </summary>
public static class PickleAllowList
{
    private const string RebuildTensor = "torch._utils._rebuild_tensor_v2";
    private const string RebuildParameter = "torch._utils._rebuild_parameter";
    private const string OrderedDict = "collections.OrderedDict";
    private const string CodecsEncode = "_codecs.encode";

    // Python 3 writes b"" in protocol 2 as a call of bytes() without arguments (Python 2 names the module __builtin__).
    private const string Bytes3 = "builtins.bytes";
    private const string Bytes2 = "__builtin__.bytes";

    private static readonly Dictionary<string, TorchElementType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["torch.FloatStorage"] = TorchElementType.Float32,
        ["torch.DoubleStorage"] = TorchElementType.Float64,
        ["torch.HalfStorage"] = TorchElementType.Float16,
        ["torch.BFloat16Storage"] = TorchElementType.BFloat16,
        ["torch.LongStorage"] = TorchElementType.Int64,
        ["torch.IntStorage"] = TorchElementType.Int32,
        ["torch.ShortStorage"] = TorchElementType.Int16,
        ["torch.CharStorage"] = TorchElementType.Int8,
        ["torch.ByteStorage"] = TorchElementType.UInt8,
        ["torch.BoolStorage"] = TorchElementType.Bool,
    };

    // numpy 1.x writes numpy.core.*, numpy 2 numpy._core.*.
    private static readonly HashSet<string> Numpy = new(StringComparer.Ordinal)
    {
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
        "numpy.ndarray", "numpy.dtype",
    };

    public static bool IsAllowed(string module, string name)
    {
        string full = $"{module}.{name}";
        return full is RebuildTensor or RebuildParameter or OrderedDict or CodecsEncode or Bytes3 or Bytes2
            || StorageTypes.ContainsKey(full) || Numpy.Contains(full);
    }

    /// <summary>Reads a torch.save persistent id: <c>("storage", torch.XStorage, key, location, numel)</c>.</summary>
    public static TorchStorageRef StorageFromPersistentId(PickleTuple pid, Func<string, Exception> error)
    {
        if (pid.Count != 5 || pid[0] is not "storage")
            throw error($"persistent id is a {pid.Count}-tuple starting with {Show(pid.Count > 0 ? pid[0] : null)}, not ('storage', type, key, location, numel)");
        if (pid[1] is not PickleGlobal type || !StorageTypes.TryGetValue(type.FullName, out var element))
            throw error($"persistent id names storage type {Show(pid[1])}, not a torch.*Storage");
        if (pid[2] is not string key) throw error("persistent id storage key is not a string");
        if (pid[3] is not string location) throw error("persistent id location is not a string");
        if (pid[4] is not long numel || numel < 0) throw error("persistent id element count is not a non-negative int");
        return new TorchStorageRef(key, element, numel, location);
    }

    internal static object? Call(PickleReader reader, object? callable, object? argsValue)
    {
        if (callable is not PickleGlobal g) throw reader.Error($"REDUCE calls a {PickleReader.TypeName(callable)}, which is not callable");
        if (argsValue is not PickleTuple args) throw reader.Error($"REDUCE arguments for {g} are a {PickleReader.TypeName(argsValue)}, not a tuple");
        switch (g.FullName)
        {
            case RebuildTensor:
                return RebuildTensorV2(reader, args);
            case RebuildParameter:
                if (args.Count < 1 || args[0] is not TorchTensorRef data) throw reader.Error($"{RebuildParameter} expects a tensor");
                return data;
            case OrderedDict:
                var dict = new PickleDict();
                if (args.Count > 1) throw reader.Error("OrderedDict() takes at most one argument");
                if (args.Count == 1 && args[0] is not PickleDict && (args[0] is not List<object?> list || list.Count != 0))
                    throw reader.Error("OrderedDict() argument is not a dict or an empty list");
                if (args.Count == 1 && args[0] is PickleDict source)
                {
                    foreach (var (k, v) in source.Items) dict.Set(k, v);
                }
                return dict;
            case CodecsEncode:
                if (args.Count != 2 || args[0] is not string text || args[1] is not ("latin1" or "latin-1"))
                    throw reader.Error($"{CodecsEncode} is only allowed as encode(str, 'latin1')");
                return Latin1Bytes(reader, text);
            case Bytes3 or Bytes2:
                if (args.Count != 0) throw reader.Error("bytes() is only allowed without arguments");
                return ReadOnlyMemory<byte>.Empty;
            case "numpy.dtype":
                if (args.Count < 1 || args[0] is not string code) throw reader.Error("numpy.dtype expects a type code string");
                return ParseDType(reader, code);
            case "numpy.core.multiarray._reconstruct" or "numpy._core.multiarray._reconstruct":
                if (args.Count != 3 || args[0] is not PickleGlobal { FullName: "numpy.ndarray" })
                    throw reader.Error("numpy _reconstruct is only allowed for numpy.ndarray");
                return new NumpyArray();
            case "numpy.core.multiarray.scalar" or "numpy._core.multiarray.scalar":
                return Scalar(reader, args);
            case "numpy.core.numeric._frombuffer" or "numpy._core.numeric._frombuffer":
                return FromBuffer(reader, args);
            default:
                throw reader.Error($"calling {g} is not allowed");
        }
    }

    internal static void Build(PickleReader reader, object? target, object? state)
    {
        switch (target)
        {
            // torch state_dicts carry a _metadata attribute (module versions); NativeSeg does not need it.
            case PickleDict when state is PickleDict or PickleTuple:
                return;
            case NumpyArray { Built: false } array:
                BuildArray(reader, array, state);
                return;
            case NumpyDType dtype:
                if (state is not PickleTuple { Count: >= 5 } t || t[1] is not string order || order.Length != 1 || order[0] is not ('<' or '>' or '|' or '='))
                    throw reader.Error("numpy dtype state has no byte order");
                if (t[2] is not null || t[3] is not null || t[4] is not null)
                    throw reader.Error("structured or sub-array numpy dtypes are not supported");
                dtype.ByteOrder = order[0];
                return;
            default:
                throw reader.Error($"setting the state of a {PickleReader.TypeName(target)} is not allowed");
        }
    }

    private static TorchTensorRef RebuildTensorV2(PickleReader reader, PickleTuple args)
    {
        if (args.Count is < 6 or > 7) throw reader.Error($"{RebuildTensor} expects 6 or 7 arguments, got {args.Count}");
        if (args[0] is not TorchStorageRef storage) throw reader.Error($"{RebuildTensor}: first argument is a {PickleReader.TypeName(args[0])}, not a storage");
        if (args[1] is not long offset || offset < 0) throw reader.Error($"{RebuildTensor}: storage offset is not a non-negative int");
        long[] size = Integers(reader, args[2], "size");
        long[] stride = Integers(reader, args[3], "stride");
        if (size.Length != stride.Length) throw reader.Error($"{RebuildTensor}: size has {size.Length} dimensions but stride {stride.Length}");
        return new TorchTensorRef(storage, offset, size, stride);
    }

    private static void BuildArray(PickleReader reader, NumpyArray array, object? stateValue)
    {
        if (stateValue is not PickleTuple state || state.Count is < 4 or > 5) throw reader.Error("numpy array state is not a 4- or 5-tuple");
        int at = state.Count - 4;
        array.Shape = Integers(reader, state[at], "numpy shape");
        array.DType = state[at + 1] as NumpyDType ?? throw reader.Error("numpy array state has no dtype");
        array.Fortran = state[at + 2] switch { bool b => b, long l => l != 0, _ => throw reader.Error("numpy array order flag is not a bool") };
        array.Data = state[at + 3] switch
        {
            ReadOnlyMemory<byte> bytes => bytes,
            string text => Latin1Bytes(reader, text),
            _ => throw reader.Error($"numpy array data is a {PickleReader.TypeName(state[at + 3])} (object arrays are not supported)"),
        };
        array.Built = true;
        CheckArraySize(reader, array);
    }

    private static NumpyArray Scalar(PickleReader reader, PickleTuple args)
    {
        if (args.Count != 2 || args[0] is not NumpyDType dtype) throw reader.Error("numpy scalar expects (dtype, bytes)");
        var data = args[1] switch
        {
            ReadOnlyMemory<byte> bytes => bytes,
            string text => Latin1Bytes(reader, text),
            _ => throw reader.Error("numpy scalar data is not bytes"),
        };
        var array = new NumpyArray { Shape = [], DType = dtype, Data = data, Built = true };
        CheckArraySize(reader, array);
        return array;
    }

    private static NumpyArray FromBuffer(PickleReader reader, PickleTuple args)
    {
        if (args.Count != 4 || args[0] is not ReadOnlyMemory<byte> data || args[1] is not NumpyDType dtype || args[3] is not ("C" or "F"))
            throw reader.Error("numpy _frombuffer is only supported as (bytes, dtype, shape, 'C' or 'F')");
        var array = new NumpyArray { Shape = Integers(reader, args[2], "numpy shape"), DType = dtype, Data = data, Fortran = args[3] is "F", Built = true };
        CheckArraySize(reader, array);
        return array;
    }

    private static void CheckArraySize(PickleReader reader, NumpyArray array)
    {
        long n = PickleDTypes.SizeOf(array.DType!.ElementType);
        try
        {
            foreach (long d in array.Shape) n = checked(n * d);
        }
        catch (OverflowException)
        {
            throw reader.Error($"numpy array shape [{string.Join(", ", array.Shape)}] is too large");
        }
        if (n != array.Data.Length)
            throw reader.Error($"numpy array of shape [{string.Join(", ", array.Shape)}] and dtype {array.DType.Code} needs {n} bytes but has {array.Data.Length}");
    }

    private static NumpyDType ParseDType(PickleReader reader, string code)
    {
        string bare = code.Length > 1 && code[0] is '<' or '>' or '|' or '=' ? code[1..] : code;
        TorchElementType type = bare switch
        {
            "f4" => TorchElementType.Float32,
            "f8" => TorchElementType.Float64,
            "f2" => TorchElementType.Float16,
            "i8" => TorchElementType.Int64,
            "i4" => TorchElementType.Int32,
            "i2" => TorchElementType.Int16,
            "i1" => TorchElementType.Int8,
            "u1" => TorchElementType.UInt8,
            "b1" => TorchElementType.Bool,
            _ => throw reader.Error($"numpy dtype '{code}' is not supported"),
        };
        var dtype = new NumpyDType(type, code);
        if (bare != code) dtype.ByteOrder = code[0];
        return dtype;
    }

    private static long[] Integers(PickleReader reader, object? value, string what)
    {
        if (value is not PickleTuple t) throw reader.Error($"{what} is a {PickleReader.TypeName(value)}, not a tuple");
        if (t.Count > 32) throw reader.Error($"{what} has {t.Count} dimensions");
        var result = new long[t.Count];
        for (int i = 0; i < t.Count; i++)
        {
            if (t[i] is not long v || v < 0) throw reader.Error($"{what} holds {Show(t[i])}, not a non-negative int");
            result[i] = v;
        }
        return result;
    }

    private static ReadOnlyMemory<byte> Latin1Bytes(PickleReader reader, string text)
    {
        foreach (char ch in text)
        {
            if (ch > 0xFF) throw reader.Error("latin1 text holds a character above U+00FF");
        }
        return Encoding.Latin1.GetBytes(text);
    }

    private static string Show(object? value) => value switch
    {
        string s => $"'{(s.Length > 40 ? s[..40] + "..." : s)}'",
        long or double or bool => value.ToString()!,
        _ => PickleReader.TypeName(value),
    };
}
