using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Normalization;
using NativeSeg.Kernels.Pooling;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Kernels.Selection;
using SoftmaxOp = NativeSeg.Kernels.Softmax.Softmax;

namespace NativeSeg.Tests.Kernels.Ops;

/// <summary>Hand-computed results and argument errors of the CPU ops.</summary>
public class OpsSemanticsTests
{
    private static Tensor F(float[] data, params int[] shape) => Tensor.FromArray(data, shape);

    private static float[] Seq(int n) => Enumerable.Range(0, n).Select(i => (float)i).ToArray();

    [Fact]
    public void MaxPoolK1S2TakesEveryOtherPixel()
    {
        using var x = F(Seq(15), 1, 1, 3, 5);
        using var y = MaxPool.Forward2d(x, 1, 2);
        Assert.Equal(new Shape(1, 1, 2, 3), y.Shape);
        Assert.Equal([0f, 2, 4, 10, 12, 14], y.AsSpan<float>().ToArray());
    }

    [Fact]
    public void MaxPoolIgnoresPaddingAndPropagatesNaN()
    {
        using var x = F([-1, -2, -3, -4, float.NaN, -6, -7, -8, -9], 1, 1, 3, 3);
        using var y = MaxPool.Forward2d(x, 3, 2, 1);
        var v = y.AsSpan<float>().ToArray();
        Assert.Equal(4, v.Length);
        Assert.All(v, value => Assert.True(float.IsNaN(value)));
        using var z = F([-1, -2, -3, -4, -5, -6, -7, -8, -9], 1, 1, 3, 3);
        using var w = MaxPool.Forward2d(z, 3, 2, 1);
        Assert.Equal([-1f, -2, -4, -5], w.AsSpan<float>().ToArray());
    }

    [Fact]
    public void NearestScaleTwoRepeatsPixels()
    {
        using var x = F([1, 2, 3, 4], 1, 1, 2, 2);
        using var y = Resize.NearestScaled(x, 2, 2);
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], y.AsSpan<float>().ToArray());
    }

    [Fact]
    public void BilinearHalfPixelClampsAtTheBorder()
    {
        using var x = F([0, 10], 1, 1, 1, 2);
        using var y = Resize.Bilinear(x, 1, 4, alignCorners: false);
        // Source x = (i + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last pixel).
        Assert.Equal([0f, 2.5f, 7.5f, 10], y.AsSpan<float>().ToArray());
        using var a = Resize.Bilinear(x, 1, 3, alignCorners: true);
        Assert.Equal([0f, 5, 10], a.AsSpan<float>().ToArray());
    }

    [Fact]
    public void SoftmaxRowsSumToOneForHugeLogits()
    {
        using var x = F([1000, 1000, -1000, 0, 1, 2], 2, 3);
        using var y = SoftmaxOp.LastDim(x);
        var v = y.AsSpan<float>().ToArray();
        Assert.Equal(0.5f, v[0], 6);
        Assert.Equal(0.5f, v[1], 6);
        Assert.Equal(0f, v[2]);
        Assert.Equal(1f, v[3] + v[4] + v[5], 6);
        Assert.True(v[3] < v[4] && v[4] < v[5]);
    }

    [Fact]
    public void GroupNormNormalizesEachGroup()
    {
        using var x = F([1, 3, 10, 30, 2, 2, 2, 2], 2, 2, 2);
        using var y = GroupNorm.Forward(x, 1, null, null, 1e-5f);
        var v = y.AsSpan<float>().ToArray();
        for (int s = 0; s < 2; s++)
        {
            var group = v.AsSpan(s * 4, 4).ToArray();
            Assert.Equal(0, group.Average(), 5);
        }
        Assert.Equal(1, v.Take(4).Select(a => a * a).Average(), 3);
        Assert.All(v.Skip(4), a => Assert.Equal(0f, a));
    }

    [Fact]
    public void ChannelNormalizationIsXMinusMeanOverStd()
    {
        using var image = F([10, 20, 30, 40, 50, 60], 3, 1, 2);
        using var mean = F([10, 20, 30], 3);
        using var std = F([2, 4, 5], 3);
        using var centred = Arithmetic.BroadcastAxis(image, mean, BinaryOp.Sub, axis: 0);
        using var normalized = Arithmetic.BroadcastAxis(centred, std, BinaryOp.Div, axis: 0);
        Assert.Equal([0f, 5, 2.5f, 5, 4, 6], normalized.AsSpan<float>().ToArray());
        using var affine = Arithmetic.Affine(image, 0.5f, -1);
        Assert.Equal([4f, 9, 14, 19, 24, 29], affine.AsSpan<float>().ToArray());
        using var product = Arithmetic.Mul(image, image);
        Assert.Equal(3600f, product.AsSpan<float>()[5]);
    }

    [Fact]
    public void TopKBreaksTiesByLowerIndex()
    {
        using var x = F([1, 3, 3, -0f, 0, 3, float.NaN, 2], 1, 8);
        var (values, indices) = TopK.LastDim(x, 6);
        using (values)
        using (indices)
        {
            Assert.Equal([6L, 1, 2, 5, 7, 0], indices.AsSpan<long>().ToArray());
            Assert.True(float.IsNaN(values.AsSpan<float>()[0]));
        }
        var (zv, zi) = TopK.LastDim(x, 8);
        using (zv)
        using (zi) Assert.Equal([3L, 4], zi.AsSpan<long>()[6..].ToArray());
    }

    [Fact]
    public void TopKOfALongRowMatchesAStableFullSort()
    {
        // Long enough that the CPU splits the row across threads and merges the slices' winners.
        const int n = 100_003, k = 1500;
        var rng = new Random(5);
        var data = Enumerable.Range(0, n).Select(_ => (float)rng.Next(-2000, 2000)).ToArray();
        var expected = Enumerable.Range(0, n).OrderByDescending(i => data[i]).ThenBy(i => i).Take(k).Select(i => (long)i).ToArray();
        using var x = F(data, 1, n);
        var (values, indices) = TopK.LastDim(x, k);
        using (values)
        using (indices)
        {
            Assert.Equal(expected, indices.AsSpan<long>().ToArray());
            Assert.Equal(expected.Select(i => data[i]).ToArray(), values.AsSpan<float>().ToArray());
        }
    }

    [Fact]
    public void ConcatJoinsAlongAnyDimension()
    {
        using var a = F([1, 2, 3, 4], 2, 2);
        using var b = F([5, 6], 2, 1);
        using var y = Concat.Forward([a, b], -1);
        Assert.Equal(new Shape(2, 3), y.Shape);
        Assert.Equal([1f, 2, 5, 3, 4, 6], y.AsSpan<float>().ToArray());
        using var c = F([7, 8], 1, 2);
        using var z = Concat.Forward([a, c], 0);
        Assert.Equal([1f, 2, 3, 4, 7, 8], z.AsSpan<float>().ToArray());
    }

    [Fact]
    public void GatherSelectsRowsAndRejectsBadIndices()
    {
        using var x = Tensor.FromArray(new byte[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        using var index = Tensor.FromArray(new long[] { 2, 0, 2 }, 3);
        using var y = Gather.Rows(x, index);
        Assert.Equal(new byte[] { 5, 6, 1, 2, 5, 6 }, y.AsSpan<byte>().ToArray());
        using var bad = Tensor.FromArray(new long[] { 0, 3 }, 2);
        var e = Assert.Throws<ArgumentException>(() => Gather.Rows(x, bad));
        Assert.Contains("gather", e.Message);
        Assert.Contains("index 3", e.Message);
        Assert.Contains("[3, 2]", e.Message);
    }

    [Fact]
    public void CastsRoundToNearestEven()
    {
        using var x = F([1f + 1f / 2048, 1f + 3f / 2048, 65519f, 65520f, -0f, 5.96e-8f], 6);
        using var h = Cast.To(x, DType.Float16);
        var bits = h.AsSpan<Half>().ToArray().Select(BitConverter.HalfToUInt16Bits).ToArray();
        Assert.Equal(new ushort[] { 0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x8000, 0x0001 }, bits);
        using var back = Cast.To(h, DType.Float32);
        Assert.Equal(65504f, back.AsSpan<float>()[2]);
        using var image = Tensor.FromArray(new byte[] { 0, 128, 255 }, 3);
        using var f = Cast.To(image, DType.Float32);
        Assert.Equal([0f, 128, 255], f.AsSpan<float>().ToArray());
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        { "group_norm", "[1, 6, 2, 2]", "groups" },
        { "max_pool2d", "[1, 1, 2, 2]", "kernel" },
        { "resize_bilinear", "[1, 3, 4]", "rank" },
        { "resize_nearest", "[1, 1, 2, 2]", "size" },
        { "softmax", "[2, 3]", "dtype" },
        { "sub", "[2, 3]", "shapes" },
        { "div_broadcast", "[2, 3, 4]", "vector" },
        { "topk", "[2, 5]", "k" },
        { "concat", "[2, 3]", "mismatch" },
        { "gather", "[4]", "index-rank" },
        { "cast", "[3]", "pair" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputsNameTheOpAndShapes(string op, string shape, string problem)
    {
        var e = Assert.Throws<ArgumentException>(() => Provoke(op, problem));
        Assert.StartsWith(op + ":", e.Message);
        Assert.Contains(shape, e.Message);
    }

    private static void Provoke(string op, string problem)
    {
        var cpu = Device.Cpu;
        switch (op, problem)
        {
            case ("group_norm", _):
                using (var x = Tensor.Zeros(new Shape(1, 6, 2, 2), DType.Float32, cpu)) GroupNorm.Forward(x, 4, null, null).Dispose();
                break;
            case ("max_pool2d", _):
                using (var x = Tensor.Zeros(new Shape(1, 1, 2, 2), DType.Float32, cpu)) MaxPool.Forward2d(x, 5, 1).Dispose();
                break;
            case ("resize_bilinear", _):
                using (var x = Tensor.Zeros(new Shape(1, 3, 4), DType.Float32, cpu)) Resize.Bilinear(x, 2, 2, false).Dispose();
                break;
            case ("resize_nearest", _):
                using (var x = Tensor.Zeros(new Shape(1, 1, 2, 2), DType.Float32, cpu)) Resize.NearestScaled(x, 0.2, 1).Dispose();
                break;
            case ("softmax", _):
                using (var x = Tensor.Zeros(new Shape(2, 3), DType.Int64, cpu)) SoftmaxOp.LastDim(x).Dispose();
                break;
            case ("sub", _):
                using (var a = Tensor.Zeros(new Shape(2, 3), DType.Float32, cpu))
                using (var b = Tensor.Zeros(new Shape(3, 2), DType.Float32, cpu)) Arithmetic.Sub(a, b).Dispose();
                break;
            case ("div_broadcast", _):
                using (var x = Tensor.Zeros(new Shape(2, 3, 4), DType.Float32, cpu))
                using (var v = Tensor.Zeros(new Shape(4), DType.Float32, cpu)) Arithmetic.BroadcastAxis(x, v, BinaryOp.Div, 1).Dispose();
                break;
            case ("topk", _):
                using (var x = Tensor.Zeros(new Shape(2, 5), DType.Float32, cpu))
                {
                    var (v, i) = TopK.LastDim(x, 6);
                    v.Dispose();
                    i.Dispose();
                }
                break;
            case ("concat", _):
                using (var a = Tensor.Zeros(new Shape(2, 3), DType.Float32, cpu))
                using (var b = Tensor.Zeros(new Shape(3, 3), DType.Float32, cpu)) Concat.Forward([a, b], 1).Dispose();
                break;
            case ("gather", _):
                using (var x = Tensor.Zeros(new Shape(4), DType.Float32, cpu))
                using (var i = Tensor.Zeros(new Shape(1, 1), DType.Int64, cpu)) Gather.Rows(x, i).Dispose();
                break;
            case ("cast", _):
                using (var x = Tensor.Zeros(new Shape(3), DType.Int32, cpu)) Cast.To(x, DType.Float16).Dispose();
                break;
            default:
                throw new InvalidOperationException($"no provocation for {op}");
        }
    }
}
