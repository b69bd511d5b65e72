using System.Security.Cryptography;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// Compiled kernels on disk, one file per key. Each file carries a magic and the SHA-256 of its payload,
/// so a truncated or corrupted file reads as a miss; writes go to a temporary file renamed into place,
/// so a crash or a concurrent writer never leaves a half-written entry behind.
/// </summary>
public sealed class KernelCache(string directory)
{
    private static readonly byte[] Magic = "NSCUBIN1"u8.ToArray();
    private const int HeaderBytes = 8 + 32;

    public string Directory { get; } = directory;

    /// <summary>$NATIVESEG_KERNEL_CACHE, else ~/.cache/nativeseg/kernels.</summary>
    public static string DefaultDirectory()
    {
        string? env = Environment.GetEnvironmentVariable("NATIVESEG_KERNEL_CACHE");
        if (!string.IsNullOrWhiteSpace(env)) return env;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "nativeseg", "kernels");
    }

    public string PathFor(string key) => Path.Combine(Directory, key + ".cubin");

    /// <summary>The cached payload, or null when absent or not intact.</summary>
    public byte[]? TryRead(string key)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(PathFor(key));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        if (file.Length < HeaderBytes || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return null;
        var payload = file.AsSpan(HeaderBytes);
        return SHA256.HashData(payload).AsSpan().SequenceEqual(file.AsSpan(Magic.Length, 32)) ? payload.ToArray() : null;
    }

    public void Write(string key, ReadOnlySpan<byte> payload)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string final = PathFor(key);
        string temporary = $"{final}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(Magic);
                stream.Write(SHA256.HashData(payload));
                stream.Write(payload);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, final, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
