using System.Security.Cryptography;
using System.Text;

namespace NativeSeg.Engine.Devices;

/// <summary>
/// A CUDA translation unit: its text and the headers it includes (NVRTC gets them by name, since the
/// NVRTC we can rely on ships no headers). The hash keys every compile cache.
/// </summary>
public sealed class KernelSource
{
    public KernelSource(string name, string code, IReadOnlyDictionary<string, string> headers)
    {
        Name = name;
        Code = code;
        Headers = headers;
        var text = new StringBuilder(code);
        foreach (var (headerName, headerCode) in headers.OrderBy(h => h.Key, StringComparer.Ordinal))
            text.Append('\0').Append(headerName).Append('\0').Append(headerCode);
        Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>File name, e.g. "RoiAlign/RoiAlign.cu".</summary>
    public string Name { get; }

    public string Code { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    public string Hash { get; }

    public override string ToString() => Name;
}
