using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Dense;

namespace NativeSeg.Tests.Kernels;

/// <summary>The FLOPs `bench model` divides by: counted from each kernel call's shapes, 2 per multiply-add of the direct method.</summary>
public class FlopCountTests
{
    [Fact]
    public void CountsSmallKnownLayersByHand()
    {
        using var scope = TensorScope.Begin();
        var x = Random(1, 2, 3, 8, 8);
        var w = Random(2, 4, 3, 3, 3);
        var grouped = Random(3, 1, 4, 9, 9);
        var wGrouped = Random(4, 6, 2, 3, 3);
        var rows = Random(5, 5, 10);
        var wLinear = Random(6, 7, 10);
        var small = Random(7, 1, 4, 5, 5);
        var wTransposed = Random(8, 4, 3, 3, 3);

        // 2 images × 4 filters × 8×8 outputs × 3 channels × 3×3 taps.
        Assert.Equal(2L * 2 * 4 * 64 * 3 * 9, Count(() => Conv2d.Forward(x, w, null, new Conv2dParams { Padding = 1 })));
        // Stride 2 gives 5×5 outputs; 2 groups: each of the 6 filters sees 2 of the 4 channels.
        Assert.Equal(2L * 6 * 25 * 2 * 9, Count(() => Conv2d.Forward(grouped, wGrouped, null, new Conv2dParams { Stride = 2, Padding = 1, Groups = 2 })));
        // 5 rows × 10 inputs × 7 outputs.
        Assert.Equal(2L * 5 * 10 * 7, Count(() => Linear.Forward(rows, wLinear)));
        // Every input pixel scatters into 3 outputs × 3×3 taps per input channel.
        Assert.Equal(2L * 4 * 25 * 3 * 9, Count(() => ConvTranspose2d.Forward(small, wTransposed, null, new ConvTranspose2dParams { Stride = 2 })));
    }

    /// <summary>Winograd does a quarter of the multiplications but counts the direct convolution's: effective FLOPs.</summary>
    [Fact]
    public void WinogradCountsTheDirectConvolutionsFlops()
    {
        using var scope = TensorScope.Begin();
        var x = Random(11, 1, 16, 62, 98);
        var w = Random(12, 20, 16, 3, 3);
        var p = new Conv2dParams { Padding = 1 };
        using var prepared = WinogradFilters.TryPrepare(w, p);
        Assert.Equal(2L * 20 * 62 * 98 * 16 * 9, Count(() => Conv2d.Forward(x, w, null, p, prepared)));
    }

    [Fact]
    public void CountsNestAndStopWhenDisposed()
    {
        using var scope = TensorScope.Begin();
        var rows = Random(21, 2, 3);
        var w = Random(22, 4, 3);
        Linear.Forward(rows, w);
        using var outer = FlopCount.Begin();
        Linear.Forward(rows, w);
        using (var inner = FlopCount.Begin())
        {
            Linear.Forward(rows, w);
            Assert.Equal(48, inner.Flops);
            Assert.Same(inner, FlopCount.Current);
        }
        Assert.Same(outer, FlopCount.Current);
        Linear.Forward(rows, w);
        Assert.Equal(3 * 48, outer.Flops);
        // Another thread's kernels are not this thread's count.
        FlopCount? seen = outer;
        var other = new Thread(() => seen = FlopCount.Current);
        other.Start();
        other.Join();
        Assert.Null(seen);
    }

    private static Tensor Random(int seed, params int[] shape) => RandomTensors.Uniform(Device.Cpu, seed, -1, 1, shape);

    private static long Count(Func<Tensor> op)
    {
        using var count = FlopCount.Begin();
        op();
        return count.Flops;
    }
}
