using System.Buffers.Binary;
using System.Text;

namespace NativeSeg.Engine.Formats.Pickle;

/// <summary>Caps on what one pickle may make the reader hold; exceeding one is a format error, not an out-of-memory.</summary>
public sealed record PickleLimits(int MaxMemo = 1_000_000, int MaxStack = 1_000_000, int MaxMarkDepth = 10_000)
{
    public static PickleLimits Default { get; } = new();
}

/// <summary>
/// A pickle interpreter (protocols 2–5) that only builds inert values. Globals are checked against
/// <see cref="PickleAllowList"/> the moment they are named, and calls (REDUCE) and state (BUILD) are
/// interpreted by hand for the few allowed functions; nothing is ever looked up or executed.
/// </summary>
public sealed class PickleReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly string _name;
    private readonly Func<PickleTuple, object?>? _persistentLoad;
    private readonly PickleLimits _limits;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<uint, object?> _memo = [];
    private int _pos;
    private int _opcodeAt;

    private PickleReader(ReadOnlyMemory<byte> data, string name, Func<PickleTuple, object?>? persistentLoad, PickleLimits limits)
    {
        _memory = data;
        _name = name;
        _persistentLoad = persistentLoad;
        _limits = limits;
    }

    /// <param name="name">Names the input in error messages.</param>
    /// <param name="persistentLoad">Resolves BINPERSID ids (torch storages); without it persistent ids are refused.</param>
    public static object? Load(ReadOnlyMemory<byte> data, string name, Func<PickleTuple, object?>? persistentLoad = null, PickleLimits? limits = null) =>
        new PickleReader(data, name, persistentLoad, limits ?? PickleLimits.Default).Run();

    internal CheckpointFormatException Error(string problem) => new(_name, $"pickle byte {_opcodeAt}: {problem}");

    private ReadOnlySpan<byte> Data => _memory.Span;

    private object? Run()
    {
        while (true)
        {
            _opcodeAt = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    int protocol = ReadByte();
                    if (protocol > 5) throw Error($"pickle protocol {protocol} is newer than 5");
                    break;
                case 0x95: // FRAME: only a hint for buffered readers; the length is checked and ignored.
                    ulong frame = ReadU64();
                    if (frame > (ulong)(Data.Length - _pos)) throw Error($"frame of {frame} bytes runs past the end of the data");
                    break;
                case (byte)'.': // STOP
                    if (_marks.Count != 0) throw Error("STOP inside an unclosed MARK");
                    if (_stack.Count != 1) throw Error($"STOP with {_stack.Count} values on the stack instead of 1");
                    return _stack[0];
                case (byte)'(':
                    if (_marks.Count >= _limits.MaxMarkDepth) throw Error($"more than {_limits.MaxMarkDepth} nested MARKs");
                    _marks.Push(_stack.Count);
                    break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopMark(); break;
                case (byte)'2': Push(Peek()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break;
                case 0x8b: Push(ReadLong(ReadLength(4))); break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                // Python 2 str: decoded as latin1, as pickle.load(encoding="latin1") does; numpy turns it back into bytes.
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(ReadLength(4)))); break;
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break;
                case (byte)'B': Push(TakeMemory(ReadLength(4))); break;
                case (byte)'C': Push(TakeMemory(ReadByte())); break;
                case 0x8e: Push(TakeMemory(ReadLength(8))); break;
                case 0x96: Push(TakeMemory(ReadLength(8))); break;
                case (byte)'X': Push(ReadUtf8(ReadLength(4))); break;
                case 0x8c: Push(ReadUtf8(ReadByte())); break;
                case 0x8d: Push(ReadUtf8(ReadLength(8))); break;
                case (byte)')': Push(new PickleTuple([])); break;
                case (byte)'t': Push(new PickleTuple(PopMark())); break;
                case 0x85: Push(new PickleTuple([Pop()])); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new PickleTuple([a, b])); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PickleTuple([a, b, c])); break; }
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'l': Push(new List<object?>(PopMark())); break;
                case (byte)'a': { var item = Pop(); AsList(Peek()).Add(item); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }
                case (byte)'}': Push(new PickleDict()); break;
                case (byte)'d': { var dict = new PickleDict(); SetItems(dict, PopMark()); Push(dict); break; }
                case (byte)'s': { var value = Pop(); var key = Pop(); SetItems(AsDict(Peek()), [key, value]); break; }
                case (byte)'u': { var items = PopMark(); SetItems(AsDict(Peek()), items); break; }
                case 0x8f: Push(new PickleSet()); break;
                case 0x90: { var items = PopMark(); AsSet(Peek()).Items.AddRange(items); break; }
                case 0x91: { var set = new PickleSet(); set.Items.AddRange(PopMark()); Push(set); break; }
                case (byte)'c': Push(Global(ReadLine(), ReadLine())); break;
                case 0x93:
                    {
                        var name = Pop() as string ?? throw Error("STACK_GLOBAL name is not a string");
                        var module = Pop() as string ?? throw Error("STACK_GLOBAL module is not a string");
                        Push(Global(module, name));
                        break;
                    }
                case (byte)'R': { var args = Pop(); var callable = Pop(); Push(PickleAllowList.Call(this, callable, args)); break; }
                case (byte)'b': { var state = Pop(); PickleAllowList.Build(this, Peek(), state); break; }
                case (byte)'Q':
                    {
                        var pid = Pop() as PickleTuple ?? throw Error("persistent id is not a tuple");
                        if (_persistentLoad is null) throw Error("persistent id in a pickle that has no external storages");
                        Push(_persistentLoad(pid));
                        break;
                    }
                case (byte)'h': Push(MemoGet(ReadByte())); break;
                case (byte)'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case (byte)'q': MemoPut(ReadByte()); break;
                case (byte)'r': MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break;
                case 0x94: MemoPut((uint)_memo.Count); break;
                default:
                    throw Error(Describe(op));
            }
        }
    }

    private static string Describe(byte op) => op switch
    {
        (byte)'i' or (byte)'o' or 0x81 or 0x92 => $"opcode 0x{op:X2} (object construction) is not allowed",
        (byte)'P' => "text persistent ids (protocol 0) are not supported",
        0x82 or 0x83 or 0x84 => "extension registry opcodes are not allowed",
        0x97 or 0x98 => "out-of-band buffers are not supported",
        (byte)'I' or (byte)'L' or (byte)'F' or (byte)'S' or (byte)'V' or (byte)'g' or (byte)'p' =>
            $"text opcode '{(char)op}' (protocol 0/1 pickle) is not supported; re-save with protocol 2 or newer",
        _ => $"unknown opcode 0x{op:X2} (not a pickle, or corrupt)",
    };

    private PickleGlobal Global(string module, string name)
    {
        if (!PickleAllowList.IsAllowed(module, name))
            throw Error($"global '{module}.{name}' is not on the allow-list; this file is not a plain weights checkpoint (it may try to run code) and was not loaded");
        return new PickleGlobal(module, name);
    }

    private void Push(object? value)
    {
        if (_stack.Count >= _limits.MaxStack) throw Error($"more than {_limits.MaxStack} values on the stack");
        _stack.Add(value);
    }

    private object? Pop()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw Error("stack underflow");
        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw Error("stack underflow");
        return _stack[^1];
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw Error("no MARK to pop to");
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? MemoGet(uint index) =>
        _memo.TryGetValue(index, out var value) ? value : throw Error($"memo index {index} was never stored");

    private void MemoPut(uint index)
    {
        if (!_memo.ContainsKey(index) && _memo.Count >= _limits.MaxMemo) throw Error($"more than {_limits.MaxMemo} memo entries");
        _memo[index] = Peek();
    }

    private List<object?> AsList(object? value) => value as List<object?> ?? throw Error($"APPEND to a {TypeName(value)}, not a list");

    private PickleDict AsDict(object? value) => value as PickleDict ?? throw Error($"SETITEM on a {TypeName(value)}, not a dict");

    private PickleSet AsSet(object? value) => value as PickleSet ?? throw Error($"ADDITEMS on a {TypeName(value)}, not a set");

    private void SetItems(PickleDict dict, object?[] items)
    {
        if (items.Length % 2 != 0) throw Error("dict items come in an odd number");
        for (int i = 0; i < items.Length; i += 2) dict.Set(HashableKey(items[i]), items[i + 1]);
    }

    private object HashableKey(object? key) => key switch
    {
        null => PickleDict.NoneKey,
        string or long or bool or double => key,
        PickleTuple t when t.Items.All(i => i is null or string or long or bool or double) => t,
        _ => throw Error($"a {TypeName(key)} cannot be a dict key"),
    };

    internal static string TypeName(object? value) => value switch
    {
        null => "None",
        string => "str",
        long => "int",
        bool => "bool",
        double => "float",
        ReadOnlyMemory<byte> => "bytes",
        List<object?> => "list",
        PickleTuple => "tuple",
        PickleDict => "dict",
        PickleSet => "set",
        PickleGlobal g => g.FullName,
        TorchStorageRef => "torch storage",
        TorchTensorRef => "torch tensor",
        NumpyArray => "numpy array",
        NumpyDType => "numpy dtype",
        _ => value.GetType().Name,
    };

    private byte ReadByte()
    {
        if (_pos >= Data.Length) throw Error("pickle ends early (truncated file?)");
        return Data[_pos++];
    }

    private ulong ReadU64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>A length prefix, refused when it claims more bytes than the input still has.</summary>
    private int ReadLength(int width)
    {
        ulong n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : ReadU64();
        if (n > (ulong)(Data.Length - _pos)) throw Error($"length {n} runs past the end of the data ({Data.Length - _pos} bytes left)");
        return (int)n;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Data.Length - _pos) throw Error($"needs {count} more bytes but only {Data.Length - _pos} are left (truncated file?)");
        var span = Data.Slice(_pos, count);
        _pos += count;
        return span;
    }

    private ReadOnlyMemory<byte> TakeMemory(int count)
    {
        Take(count);
        return _memory.Slice(_pos - count, count);
    }

    private string ReadUtf8(int count)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(Take(count));
        }
        catch (DecoderFallbackException e)
        {
            throw Error($"string is not valid UTF-8 ({e.Message})");
        }
    }

    private string ReadLine()
    {
        int end = Data[_pos..].IndexOf((byte)'\n');
        if (end < 0 || end > 256) throw Error("GLOBAL name is not a short newline-terminated line");
        string line = Encoding.ASCII.GetString(Data.Slice(_pos, end));
        _pos += end + 1;
        return line;
    }

    private object ReadLong(int count)
    {
        var bytes = Take(count);
        if (count == 0) return 0L;
        if (count > 8) throw Error($"integer of {count} bytes is too large");
        long value = (sbyte)bytes[count - 1];
        for (int i = count - 2; i >= 0; i--) value = (value << 8) | bytes[i];
        return value;
    }
}
