using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Elementwise;

/// <summary>The binary operations; the values are the op codes Elementwise.cu switches on.</summary>
public enum BinaryOp
{
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
}

/// <summary>
/// Float32 arithmetic: same-shape binary ops, one vector broadcast along an axis (e.g. (x − mean) / std
/// over the channels of NCHW or CHW), and the scalar affine a·x + b. Every op returns a new tensor.
/// </summary>
public static class Arithmetic
{
    private const int ChunkSize = 1 << 16;

    private static KernelSource Source => KernelCatalog.Get("Elementwise/Elementwise.cu");

    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Add);

    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Sub);

    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Mul);

    public static Tensor Div(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Div);

    public static Tensor Binary(Tensor a, Tensor b, BinaryOp op) =>
        SameShape(a, b, OpName(op), "binary_f32", (int)op, (left, right, result) =>
        {
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(left, right, result); break;
                case BinaryOp.Sub: TensorPrimitives.Subtract(left, right, result); break;
                case BinaryOp.Mul: TensorPrimitives.Multiply(left, right, result); break;
                default: TensorPrimitives.Divide(left, right, result); break;
            }
        });

    /// <summary>
    /// y = max(a + b, 0): a ResNet block's residual join. One pass instead of an add and a ReLU, each of
    /// which would read and write a whole feature map.
    /// </summary>
    public static Tensor AddRelu(Tensor a, Tensor b) =>
        SameShape(a, b, "add_relu", "add_relu_f32", NoOpCode, (left, right, result) =>
        {
            TensorPrimitives.Add(left, right, result);
            TensorPrimitives.Max(result, 0f, result);
        });

    private delegate void SpanBinary(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> result);

    /// <summary>Passed as the op code to kernels that compute one fixed op and so take none.</summary>
    private const int NoOpCode = -1;

    private static unsafe Tensor SameShape(Tensor a, Tensor b, string name, string kernel, int code, SpanBinary cpu)
    {
        Check.DType(a, DType.Float32, name, "left input");
        Check.DType(b, DType.Float32, name, "right input");
        Check.SameShape(a, b, name);
        Check.SameDevice(name, a, b);
        var y = Tensor.Empty(a.Shape, DType.Float32, a.Device);
        long n = a.Numel;
        if (n == 0) return y;
        if (a.Device.IsCpu)
        {
            float* pa = (float*)a.Pointer, pb = (float*)b.Pointer, py = (float*)y.Pointer;
            ForChunks(n, (offset, length) => cpu(
                new ReadOnlySpan<float>(pa + offset, length),
                new ReadOnlySpan<float>(pb + offset, length),
                new Span<float>(py + offset, length)));
            return y;
        }
        var gpu = a.Device.Gpu;
        nint left = a.Pointer, right = b.Pointer, output = y.Pointer;
        void** args = stackalloc void*[] { &left, &right, &output, &n, &code };
        gpu.Launch(gpu.GetKernel(Source, kernel), Dim3.Cover(n, 256), new Dim3(256), 0, args, code == NoOpCode ? 4 : 5);
        return y;
    }

    /// <summary>y = x op v[c] where c is the index along <paramref name="axis"/> (1 for NCHW, 0 for CHW).</summary>
    public static unsafe Tensor BroadcastAxis(Tensor x, Tensor v, BinaryOp op, int axis = 1)
    {
        string name = OpName(op) + "_broadcast";
        Check.DType(x, DType.Float32, name, "input");
        Check.DType(v, DType.Float32, name, "vector");
        Check.That(axis >= 0 && axis < x.Rank, name, $"axis {axis} outside input {x.Shape}");
        Check.That(v.Rank == 1 && v.Shape[0] == x.Shape[axis], name, $"vector {v.Shape} must be [{x.Shape[axis]}] to broadcast along axis {axis} of {x.Shape}");
        Check.SameDevice(name, x, v);
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        long n = x.Numel;
        if (n == 0) return y;
        int channels = x.Shape[axis];
        long inner = 1;
        for (int d = axis + 1; d < x.Rank; d++) inner *= x.Shape[d];
        if (x.Device.IsCpu)
        {
            float* px = (float*)x.Pointer, pv = (float*)v.Pointer, py = (float*)y.Pointer;
            ForChunks(n, (offset, length) =>
            {
                // Split the chunk at axis-value boundaries so each piece is one span op with a scalar.
                long end = offset + length;
                for (long start = offset; start < end;)
                {
                    long run = Math.Min(end, (start / inner + 1) * inner) - start;
                    float value = pv[start / inner % channels];
                    var input = new ReadOnlySpan<float>(px + start, (int)run);
                    var result = new Span<float>(py + start, (int)run);
                    switch (op)
                    {
                        case BinaryOp.Add: TensorPrimitives.Add(input, value, result); break;
                        case BinaryOp.Sub: TensorPrimitives.Subtract(input, value, result); break;
                        case BinaryOp.Mul: TensorPrimitives.Multiply(input, value, result); break;
                        default: TensorPrimitives.Divide(input, value, result); break;
                    }
                    start += run;
                }
            });
            return y;
        }
        LaunchBroadcast(x, v, y, op, inner);
        return y;
    }

    private static unsafe void LaunchBroadcast(Tensor x, Tensor v, Tensor y, BinaryOp op, long inner)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, vector = v.Pointer, output = y.Pointer;
        long n = x.Numel;
        int channels = v.Shape[0], code = (int)op;
        void** args = stackalloc void*[] { &input, &vector, &output, &n, &inner, &channels, &code };
        gpu.Launch(gpu.GetKernel(Source, "binary_channel_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, args, 7);
    }

    /// <summary>y = scale·x + shift.</summary>
    public static unsafe Tensor Affine(Tensor x, float scale, float shift)
    {
        Check.DType(x, DType.Float32, "affine", "input");
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        long n = x.Numel;
        if (n == 0) return y;
        if (x.Device.IsCpu)
        {
            float* px = (float*)x.Pointer, py = (float*)y.Pointer;
            ForChunks(n, (offset, length) =>
            {
                var result = new Span<float>(py + offset, length);
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(px + offset, length), scale, result);
                TensorPrimitives.Add(result, shift, result);
            });
            return y;
        }
        LaunchAffine(x, y, scale, shift);
        return y;
    }

    private static unsafe void LaunchAffine(Tensor x, Tensor y, float scale, float shift)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, output = y.Pointer;
        long n = x.Numel;
        void** args = stackalloc void*[] { &input, &output, &n, &scale, &shift };
        gpu.Launch(gpu.GetKernel(Source, "affine_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, args, 5);
    }

    private static string OpName(BinaryOp op) => op switch
    {
        BinaryOp.Add => "add",
        BinaryOp.Sub => "sub",
        BinaryOp.Mul => "mul",
        BinaryOp.Div => "div",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "elementwise: unknown binary op"),
    };

    private static void ForChunks(long n, Action<long, int> body) =>
        CpuThreads.For(checked((int)((n + ChunkSize - 1) / ChunkSize)), (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                long offset = (long)c * ChunkSize;
                body(offset, (int)Math.Min(ChunkSize, n - offset));
            }
        });
}
