using System.Text.Json;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Safetensors;

/// <summary>Writes .safetensors files atomically: a failed write leaves no file behind.</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes the tensors in the order given; GPU tensors are copied to the host first.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in list)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            if (name == "__metadata__") throw new ArgumentException($"{path}: '__metadata__' is reserved and cannot name a tensor");
            if (!names.Add(name)) throw new ArgumentException($"{path}: tensor name '{name}' given twice");
        }
        byte[] header = BuildHeader(list, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> size = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)header.Length);
            stream.Write(size);
            stream.Write(header);
            foreach (var (_, tensor) in list) WriteData(stream, tensor);
        });
    }

    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> list, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in list)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDTypes.NameOf(tensor.DType));
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape.Dims) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.Bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.Bytes;
            }
            json.WriteEndObject();
        }
        // Spaces up to a multiple of 8 keep the data section 8-byte aligned, as the reference writer does.
        int padding = (int)(-buffer.Length & 7);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static unsafe void WriteData(Stream stream, Tensor tensor)
    {
        Tensor host = tensor.Device.IsCpu ? tensor : tensor.To(Device.Cpu);
        try
        {
            byte* p = (byte*)host.Pointer;
            long left = host.Bytes;
            while (left > 0)
            {
                int chunk = (int)Math.Min(left, 1 << 30);
                stream.Write(new ReadOnlySpan<byte>(p, chunk));
                p += chunk;
                left -= chunk;
            }
        }
        finally
        {
            if (!ReferenceEquals(host, tensor)) host.Dispose();
        }
    }
}
