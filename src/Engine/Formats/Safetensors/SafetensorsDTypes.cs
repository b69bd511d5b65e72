using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Safetensors;

/// <summary>The safetensors dtype names, their bit sizes, and which of them the engine can hold.</summary>
internal static class SafetensorsDTypes
{
    // Every dtype the format defines, so a valid file with an exotic tensor still opens; only loading
    // that tensor is refused.
    private static readonly Dictionary<string, int> Bits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8, ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6, ["U8"] = 8, ["I8"] = 8,
        ["F8_E5M2"] = 8, ["F8_E4M3"] = 8, ["F8_E8M0"] = 8, ["F8_E4M3FNUZ"] = 8, ["F8_E5M2FNUZ"] = 8,
        ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16, ["I32"] = 32, ["U32"] = 32, ["F32"] = 32,
        ["C64"] = 64, ["F64"] = 64, ["I64"] = 64, ["U64"] = 64,
    };

    public const string Supported = "F32, F16, BF16 (loaded as F32), I32, I64, U8";

    public static bool TryGetBits(string name, out int bits) => Bits.TryGetValue(name, out bits);

    /// <summary>The engine dtype a stored dtype loads as; BF16 widens to F32 because the engine has no BF16.</summary>
    public static DType? LoadsAs(string name) => name switch
    {
        "F32" or "BF16" => DType.Float32,
        "F16" => DType.Float16,
        "I32" => DType.Int32,
        "I64" => DType.Int64,
        "U8" => DType.UInt8,
        _ => null,
    };

    public static string NameOf(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float16 => "F16",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        DType.UInt8 => "U8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors name for this dtype"),
    };
}
