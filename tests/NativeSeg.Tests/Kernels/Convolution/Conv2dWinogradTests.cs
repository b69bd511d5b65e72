using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Convolution;

/// <summary>The CPU's Winograd F(4×4, 3×3) path against the direct one (the implicit GEMM, or im2col without AVX-512).</summary>
public class Conv2dWinogradTests(ITestOutputHelper output)
{
    /// <summary>Its error against the direct sum: F(4×4)'s transforms scale values by up to 8² before rounding.</summary>
    private const double Tolerance = 2e-5;

    public static TheoryData<int[], int[], int> Cases => new()
    {
        // x, weight, padding. Partial tiles at the right and bottom, filters not a multiple of 8, panels of 48 tiles
        // spanning images, no padding, padding 2, and a map smaller than one tile.
        { [2, 32, 23, 30], [40, 32, 3, 3], 1 },
        { [3, 16, 9, 13], [19, 16, 3, 3], 0 },
        { [1, 24, 17, 11], [16, 24, 3, 3], 2 },
        { [5, 64, 3, 2], [24, 64, 3, 3], 1 },
        // The widths of a ResNet-FPN: 256 channels on a mask-head-sized batch.
        { [4, 256, 14, 14], [256, 256, 3, 3], 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDirectPath(int[] xShape, int[] wShape, int padding)
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 31, -1, 1, xShape);
        using var w = RandomTensors.Uniform(Device.Cpu, 32, -1, 1, wShape);
        using var b = RandomTensors.Uniform(Device.Cpu, 33, -1, 1, wShape[0]);
        var p = new Conv2dParams { Padding = padding, FuseRelu = true };
        var direct = Conv2dImplicitGemm.IsSupported ? CpuConvAlgorithm.ImplicitGemm : CpuConvAlgorithm.Columns;
        using var expected = Conv2d.Forward(x, w, b, p, Conv2d.CpuColumnBudgetBytes, direct);
        if (!Conv2dWinograd.IsSupported)
        {
            var refused = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, b, p, Conv2d.CpuColumnBudgetBytes, CpuConvAlgorithm.Winograd));
            Assert.Contains("AVX-512", refused.Message);
            return;
        }
        using var y = Conv2d.Forward(x, w, b, p, Conv2d.CpuColumnBudgetBytes, CpuConvAlgorithm.Winograd);
        var result = KernelCheckRunner.Compare("conv2d", [expected], [y], Tolerance);
        output.WriteLine($"relative error {result.RelativeError:g3}");
        Assert.True(result.Passed, result.Failure ?? $"relative error {result.RelativeError:g3} above {Tolerance:g3}");
    }

    /// <summary>Prepared filters (the compiled models' way) and the forced path's per-call transform give the same result.</summary>
    [Fact]
    public void PreparedFiltersGiveThePerCallResult()
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 41, -1, 1, 2, 32, 55, 56); // 392 tiles: enough for compiled models to use Winograd
        using var w = RandomTensors.Uniform(Device.Cpu, 42, -1, 1, 24, 32, 3, 3);
        var p = new Conv2dParams { Padding = 1 };
        using var prepared = WinogradFilters.TryPrepare(w, p);
        Assert.Equal(Conv2dWinograd.IsSupported, prepared is not null);
        if (prepared is null) return;
        using var perCall = Conv2d.Forward(x, w, null, p, Conv2d.CpuColumnBudgetBytes, CpuConvAlgorithm.Winograd);
        using var y = Conv2d.Forward(x, w, null, p, prepared);
        Assert.Equal(perCall.ToArray<float>(), y.ToArray<float>());
    }

    /// <summary>
    /// A compiled model's filters (made on first use) are made by the first call whose map is large enough for Winograd,
    /// not by a small map's call (which runs the direct path), and give what filters made at once give.
    /// </summary>
    [Fact]
    public void FiltersMadeOnFirstUseWaitForAMapLargeEnough()
    {
        using var small = RandomTensors.Uniform(Device.Cpu, 71, -1, 1, 1, 32, 8, 8);
        using var large = RandomTensors.Uniform(Device.Cpu, 72, -1, 1, 2, 32, 55, 56);
        using var w = RandomTensors.Uniform(Device.Cpu, 73, -1, 1, 24, 32, 3, 3);
        var p = new Conv2dParams { Padding = 1 };
        using var onFirstUse = WinogradFilters.TryPrepareOnFirstUse(w, p);
        Assert.Equal(Conv2dWinograd.IsSupported, onFirstUse is not null);
        if (onFirstUse is null) return;
        Assert.False(onFirstUse.IsMade);
        using (Conv2d.Forward(small, w, null, p, onFirstUse)) Assert.False(onFirstUse.IsMade);
        using var y = Conv2d.Forward(large, w, null, p, onFirstUse);
        Assert.True(onFirstUse.IsMade);
        using var prepared = WinogradFilters.TryPrepare(w, p);
        Assert.True(prepared!.IsMade);
        using var expected = Conv2d.Forward(large, w, null, p, prepared);
        Assert.Equal(expected.ToArray<float>(), y.ToArray<float>());
    }

    [Fact]
    public void OnlyThreeByThreeStrideOneUngroupedConvsWithEnoughChannelsArePrepared()
    {
        using var w = RandomTensors.Uniform(Device.Cpu, 51, -1, 1, 32, 32, 3, 3);
        using var grouped = RandomTensors.Uniform(Device.Cpu, 52, -1, 1, 32, 16, 3, 3);
        using var narrow = RandomTensors.Uniform(Device.Cpu, 53, -1, 1, 32, 3, 3, 3);
        using var oneByOne = RandomTensors.Uniform(Device.Cpu, 54, -1, 1, 32, 32, 1, 1);
        Assert.Null(WinogradFilters.TryPrepare(w, new Conv2dParams { Stride = 2, Padding = 1 }));
        Assert.Null(WinogradFilters.TryPrepare(w, new Conv2dParams { Dilation = 2, Padding = 2 }));
        Assert.Null(WinogradFilters.TryPrepare(grouped, new Conv2dParams { Groups = 2, Padding = 1 }));
        Assert.Null(WinogradFilters.TryPrepare(narrow, new Conv2dParams { Padding = 1 }));
        Assert.Null(WinogradFilters.TryPrepare(oneByOne, Conv2dParams.Default));
    }

    [Fact]
    public void FiltersOfAnotherWeightAreRefused()
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 61, -1, 1, 1, 32, 8, 8);
        using var w = RandomTensors.Uniform(Device.Cpu, 62, -1, 1, 32, 32, 3, 3);
        using var other = RandomTensors.Uniform(Device.Cpu, 63, -1, 1, 16, 32, 3, 3);
        using var prepared = WinogradFilters.TryPrepare(other, new Conv2dParams { Padding = 1 });
        if (prepared is null) return;
        var error = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, new Conv2dParams { Padding = 1 }, prepared));
        Assert.Contains("[16, 32, 3, 3]", error.Message);
    }
}
