using System.Buffers.Binary;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Pickle;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Checkpoints;

/// <summary>Copies stored elements (any strides, byte order, element type) into a contiguous engine tensor.</summary>
internal static unsafe class TensorBuilder
{
    public static Tensor FromStorage(string path, string name, TorchTensorRef t, byte* storage, long storageBytes, bool bigEndian)
    {
        int elementSize = PickleDTypes.SizeOf(t.Storage.ElementType);
        if (storageBytes != t.Storage.Numel * elementSize)
            throw new CheckpointFormatException(path, $"tensor '{name}': storage {t.Storage.Key} holds {storageBytes} bytes, not {t.Storage.Numel} elements of {t.Storage.ElementType}");
        return Copy(path, name, t.Storage.ElementType, bigEndian, storage, t.Storage.Numel, t.StorageOffset, t.Size, t.Stride);
    }

    public static Tensor FromNumpy(string path, string name, NumpyArray a)
    {
        var dtype = a.DType!;
        long[] stride = new long[a.Shape.Length];
        long step = 1;
        for (int i = 0; i < stride.Length; i++)
        {
            // C order: the last axis varies fastest; Fortran order: the first.
            int axis = a.Fortran ? i : stride.Length - 1 - i;
            stride[axis] = step;
            step *= a.Shape[axis];
        }
        int elementSize = PickleDTypes.SizeOf(dtype.ElementType);
        fixed (byte* data = a.Data.Span)
        {
            return Copy(path, name, dtype.ElementType, dtype.BigEndian, data, a.Data.Length / elementSize, 0, a.Shape, stride);
        }
    }

    private static Tensor Copy(string path, string name, TorchElementType type, bool bigEndian, byte* source, long numel, long offset, long[] size, long[] stride)
    {
        var dtype = PickleDTypes.LoadsAs(type)
            ?? throw new CheckpointFormatException(path, $"tensor '{name}' holds {type}, which the engine cannot load");
        var dims = new int[size.Length];
        long count = 1;
        long last = offset;
        for (int i = 0; i < size.Length; i++)
        {
            if (size[i] > int.MaxValue) throw new CheckpointFormatException(path, $"tensor '{name}': dimension {size[i]} is too large");
            dims[i] = (int)size[i];
            count = Checked(path, name, () => checked(count * size[i]));
            if (size[i] > 0) last = Checked(path, name, () => checked(last + (size[i] - 1) * stride[i]));
        }
        if (count > 0 && last >= numel || count == 0 && offset > numel)
            throw new CheckpointFormatException(path, $"tensor '{name}': size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}] and offset {offset} reach past its storage of {numel} elements");
        var tensor = Tensor.Empty(new Shape(dims), dtype, Device.Cpu);
        if (count == 0) return tensor;
        int inSize = PickleDTypes.SizeOf(type);
        byte* dst = (byte*)tensor.Pointer;
        if (IsContiguous(size, stride) && !bigEndian && inSize == dtype.SizeOf() && type != TorchElementType.BFloat16)
        {
            Buffer.MemoryCopy(source + offset * inSize, dst, tensor.Bytes, count * inSize);
            return tensor;
        }
        var index = new long[size.Length];
        long at = offset;
        int outSize = dtype.SizeOf();
        for (long n = 0; n < count; n++)
        {
            Convert(type, bigEndian, source + at * inSize, dst + n * outSize);
            for (int axis = size.Length - 1; axis >= 0; axis--)
            {
                at += stride[axis];
                if (++index[axis] < size[axis]) break;
                at -= stride[axis] * size[axis];
                index[axis] = 0;
            }
        }
        return tensor;
    }

    private static void Convert(TorchElementType type, bool bigEndian, byte* from, byte* to)
    {
        switch (type)
        {
            case TorchElementType.Float64:
                long bits = bigEndian ? BinaryPrimitives.ReverseEndianness(*(long*)from) : *(long*)from;
                *(float*)to = (float)BitConverter.Int64BitsToDouble(bits);
                break;
            case TorchElementType.BFloat16:
                ushort half = bigEndian ? BinaryPrimitives.ReverseEndianness(*(ushort*)from) : *(ushort*)from;
                *(uint*)to = (uint)half << 16;
                break;
            case TorchElementType.Bool:
                *to = *from != 0 ? (byte)1 : (byte)0;
                break;
            default:
                int n = PickleDTypes.SizeOf(type);
                for (int i = 0; i < n; i++) to[i] = from[bigEndian ? n - 1 - i : i];
                break;
        }
    }

    private static bool IsContiguous(long[] size, long[] stride)
    {
        long expected = 1;
        for (int i = size.Length - 1; i >= 0; i--)
        {
            if (size[i] != 1 && stride[i] != expected) return false;
            expected *= size[i];
        }
        return true;
    }

    private static long Checked(string path, string name, Func<long> compute)
    {
        try
        {
            return compute();
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': size or stride overflows");
        }
    }
}
