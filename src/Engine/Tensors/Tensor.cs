using System.Runtime.InteropServices;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Memory;

namespace NativeSeg.Engine.Tensors;

/// <summary>
/// A contiguous row-major tensor on one device. Views (<see cref="Reshape"/>, <see cref="Slice"/>) share
/// the memory and keep it alive; every tensor, view or not, must be disposed.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly Storage _storage;
    private readonly long _byteOffset;
    private int _disposed;

    private Tensor(Storage storage, long byteOffset, Shape shape, DType dtype)
    {
        _storage = storage;
        _byteOffset = byteOffset;
        Shape = shape;
        DType = dtype;
        TensorScope.Adopt(this);
        TensorLeakTracker.Created(this);
    }

    /// <summary>The scope that disposes this tensor when it ends, if any.</summary>
    internal TensorScope? Scope { get; set; }

    public Shape Shape { get; }

    public DType DType { get; }

    public Device Device => _storage.Device;

    public long Numel => Shape.Numel;

    public long Bytes => Numel * DType.SizeOf();

    public int Rank => Shape.Rank;

    /// <summary>Address of the first element (host or device memory).</summary>
    public nint Pointer
    {
        get
        {
            ThrowIfDisposed();
            return _storage.Pointer + (nint)_byteOffset;
        }
    }

    public static Tensor Empty(Shape shape, DType dtype, Device device)
    {
        long bytes = shape.Numel * dtype.SizeOf();
        return new Tensor(new Storage(device, device.Pool, bytes), 0, shape, dtype);
    }

    public static Tensor Empty(Device device, DType dtype, params int[] shape) => Empty(new Shape(shape), dtype, device);

    public static Tensor Zeros(Shape shape, DType dtype, Device device)
    {
        var t = Empty(shape, dtype, device);
        t.Fill(0);
        return t;
    }

    /// <summary>A CPU tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray<T>(ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        var s = new Shape(shape);
        if (s.Numel != data.Length)
            throw new ArgumentException($"tensor: {data.Length} values do not fill shape {s}");
        var t = Empty(s, DTypeInfo.Of<T>(), Device.Cpu);
        data.CopyTo(t.AsSpan<T>());
        return t;
    }

    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged => FromArray((ReadOnlySpan<T>)data, shape);

    /// <summary>The elements, for CPU tensors only.</summary>
    public unsafe Span<T> AsSpan<T>() where T : unmanaged
    {
        if (!Device.IsCpu) throw new InvalidOperationException($"tensor {Shape} lives on {Device}; copy it to the CPU to read it");
        if (DTypeInfo.Of<T>() != DType)
            throw new InvalidOperationException($"tensor {Shape} holds {DType.Name()}, not {DTypeInfo.Of<T>().Name()}");
        return new Span<T>((void*)Pointer, checked((int)Numel));
    }

    /// <summary>A copy of the elements on the host, whatever the device.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        using var host = To(Device.Cpu);
        return host.AsSpan<T>().ToArray();
    }

    /// <summary>A new tensor with the same values on <paramref name="device"/> (a copy even when already there).</summary>
    public Tensor To(Device device)
    {
        var result = Empty(Shape, DType, device);
        result.CopyFrom(this);
        return result;
    }

    public unsafe void CopyFrom(Tensor source)
    {
        if (source.Shape.Numel != Numel || source.DType != DType)
            throw new ArgumentException($"copy: source {source.Shape} {source.DType.Name()} does not match destination {Shape} {DType.Name()}");
        if (Bytes == 0) return;
        if (Device.IsCpu && source.Device.IsCpu)
            Buffer.MemoryCopy((void*)source.Pointer, (void*)Pointer, Bytes, Bytes);
        else if (Device.IsCpu)
            source.Device.Gpu.CopyDeviceToHost(Pointer, source.Pointer, Bytes);
        else if (source.Device.IsCpu)
            Device.Gpu.CopyHostToDevice(Pointer, source.Pointer, Bytes);
        else if (ReferenceEquals(Device, source.Device))
            Device.Gpu.CopyDeviceToDevice(Pointer, source.Pointer, Bytes);
        else
        {
            using var staging = source.To(Device.Cpu);
            CopyFrom(staging);
        }
    }

    /// <summary>Sets every byte of the tensor to <paramref name="value"/> (0 gives zeros of any dtype).</summary>
    public unsafe void Fill(byte value)
    {
        if (Bytes == 0) return;
        if (Device.IsCpu) NativeMemory.Fill((void*)Pointer, (nuint)Bytes, value);
        else Device.Gpu.Memset(Pointer, value, Bytes);
    }

    /// <summary>A view with another shape of the same number of elements; one dimension may be -1.</summary>
    public Tensor Reshape(params int[] shape)
    {
        ThrowIfDisposed();
        int inferred = Array.IndexOf(shape, -1);
        if (inferred >= 0)
        {
            long known = 1;
            for (int i = 0; i < shape.Length; i++) if (i != inferred) known *= shape[i];
            if (known == 0 || Numel % known != 0)
                throw new ArgumentException($"reshape: cannot view {Shape} as [{string.Join(", ", shape)}]");
            shape = (int[])shape.Clone();
            shape[inferred] = (int)(Numel / known);
        }
        var s = new Shape(shape);
        if (s.Numel != Numel) throw new ArgumentException($"reshape: cannot view {Shape} as {s}");
        _storage.AddReference();
        return new Tensor(_storage, _byteOffset, s, DType);
    }

    /// <summary>
    /// A flat view of the same bytes as elements of <paramref name="dtype"/>, so results of several dtypes can be
    /// gathered into one buffer and brought to the host in one copy.
    /// </summary>
    public Tensor Reinterpret(DType dtype)
    {
        ThrowIfDisposed();
        int size = dtype.SizeOf();
        if (Bytes % size != 0) throw new ArgumentException($"reinterpret: the {Bytes} bytes of {this} are no whole number of {dtype.Name()} elements");
        _storage.AddReference();
        return new Tensor(_storage, _byteOffset, new Shape(checked((int)(Bytes / size))), dtype);
    }

    /// <summary>Another handle on the same memory and shape, disposed on its own (what a tape keeps of a saved activation).</summary>
    public Tensor Share() => Reshape(Shape.ToArray());

    /// <summary>A view of rows [start, start+length) along the first dimension.</summary>
    public Tensor Slice(int start, int length)
    {
        ThrowIfDisposed();
        if (Rank == 0 || start < 0 || length < 0 || start + length > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"slice: rows [{start}, {start + length}) outside {Shape}");
        _storage.AddReference();
        long offset = _byteOffset + start * Shape.InnerSize * DType.SizeOf();
        return new Tensor(_storage, offset, Shape.WithDim(0, length), DType);
    }

    public override string ToString() => $"Tensor({Shape}, {DType.Name()}, {Device})";

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        TensorLeakTracker.Disposed(this);
        _storage.Release();
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(ToString());
    }
}
