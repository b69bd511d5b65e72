using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Convolution;

/// <summary>
/// The native bf16 kernel against its C# twin (<see cref="Bf16PanelTwin"/>), and the bf16 convolution against the float one
/// of bf16-rounded operands. The rounding tests run everywhere; the native ones where the CPU has AVX512_BF16 and the
/// library was built, and say so in their output where it has not.
/// </summary>
public class Bf16PanelKernelTests(ITestOutputHelper output)
{
    public static TheoryData<float, ushort> Roundings => new()
    {
        { 1f, 0x3F80 },
        { -2.5f, 0xC020 },
        // Exactly halfway: to the even neighbour, down from 0x3F80 and up from 0x3F81.
        { BitConverter.UInt32BitsToSingle(0x3F80_8000), 0x3F80 },
        { BitConverter.UInt32BitsToSingle(0x3F81_8000), 0x3F82 },
        // Just above and below halfway.
        { BitConverter.UInt32BitsToSingle(0x3F80_8001), 0x3F81 },
        { BitConverter.UInt32BitsToSingle(0x3F80_7FFF), 0x3F80 },
        // The largest float rounds up to infinity; infinities stay.
        { float.MaxValue, 0x7F80 },
        { float.NegativeInfinity, 0xFF80 },
        // Denormals become zero of their sign (VCVTNE2PS2BF16 treats them as zero); the smallest normal stays.
        { BitConverter.UInt32BitsToSingle(0x0000_0001), 0x0000 },
        { BitConverter.UInt32BitsToSingle(0x807F_FFFF), 0x8000 },
        { BitConverter.UInt32BitsToSingle(0x0080_0000), 0x0080 },
        { -0f, 0x8000 },
        // A signalling NaN is quieted, its sign and leading payload kept.
        { BitConverter.UInt32BitsToSingle(0x7F80_0001), 0x7FC0 },
        { BitConverter.UInt32BitsToSingle(0xFFA0_0000), 0xFFE0 },
    };

    [Theory]
    [MemberData(nameof(Roundings))]
    public void TwinRoundsAsVcvtne2ps2bf16(float value, ushort expected) => Assert.Equal(expected, Bf16PanelTwin.Round(value));

    [Fact]
    public void TwinPacksPairsOfRowsIntoOneLaneZeroPastAnOddCount()
    {
        float[] m = [1, 2, 3, 4, 5, 6, 7, 8, 9]; // 3 × 3
        var packed = Bf16PanelTwin.PackPairs(m, 3, 3, 2);
        Assert.Equal([0x4080_3F80u, 0x40A0_4000u, 0x0000_40E0u, 0x0000_4100u], packed);
    }

    [Fact]
    public unsafe void NativeRoundingIsTheTwins()
    {
        if (NotRunnable()) return;
        const int k = 37, n = 21, ld = 23;
        var source = RandomValues(7, k * ld, 1e3f);
        foreach (var (specials, i) in Roundings.Select((r, i) => ((float)r[0], i))) source[i * 5] = specials;
        var expected = Bf16PanelTwin.PackPairs(source, ld, k, n);
        var actual = new uint[expected.Length];
        fixed (float* s = source)
        fixed (uint* d = actual)
            Bf16PanelKernel.PackPairs(s, ld, k, n, d);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(1, true, false, false)]
    [InlineData(150, false, false, true)]
    [InlineData(1153, true, false, true)]
    [InlineData(150, true, true, true)]
    public unsafe void NativePanelMatchesTheTwin(int pairs, bool bias, bool residual, bool relu)
    {
        if (NotRunnable()) return;
        var a = RandomPairs(11, pairs * Bf16PanelTwin.Mr);
        var b = RandomPairs(12, pairs * Bf16PanelTwin.Nr);
        float[] shifts = bias ? RandomValues(13, Bf16PanelTwin.Mr, 1) : [];
        const int ldc = Bf16PanelTwin.Nr + 5;
        var expected = new float[Bf16PanelTwin.Mr * ldc];
        var actual = new float[Bf16PanelTwin.Mr * ldc];
        float[] joined = residual ? RandomValues(14, Bf16PanelTwin.Mr * ldc, 1) : [];
        Bf16PanelTwin.Panel(pairs, a, b, expected, ldc, shifts, joined, relu);
        fixed (uint* ap = a)
        fixed (uint* bp = b)
        fixed (float* cp = actual)
        fixed (float* sp = shifts)
        fixed (float* rp = joined)
            Bf16PanelKernel.Run(pairs, ap, bp, cp, ldc, bias ? sp : null, residual ? rp : null, relu);
        double scale = expected.Max(Math.Abs), error = expected.Zip(actual, (e, x) => Math.Abs(e - x)).Max() / scale;
        int identical = expected.Zip(actual, (e, x) => e == x).Count(same => same);
        output.WriteLine($"{pairs} pairs: relative error {error:g3}, {identical} of {expected.Length} values bit-identical");
        Assert.True(error <= 1e-6, $"the native kernel differs from its twin by {error:g3} of the largest output");
    }

    public static TheoryData<int[], int[], Conv2dParams> Convolutions => new()
    {
        // 3×3 padded over panels that span two images; 20 filters (not a multiple of 8); 27 taps (an odd count).
        { [2, 3, 23, 19], [20, 3, 3, 3], new() { Padding = 1, FuseRelu = true } },
        // Strided and grouped, 1×1 direct, and the widths of a ResNet stage.
        { [1, 12, 17, 14], [18, 4, 3, 3], new() { Stride = 2, Padding = 1, Groups = 3 } },
        { [1, 64, 13, 16], [40, 64, 1, 1], new() { FuseRelu = true } },
        { [2, 256, 9, 10], [64, 256, 3, 3], new() { Padding = 1 } },
    };

    /// <summary>
    /// The bf16 convolution is the float convolution of the operands rounded as the twin rounds them (up to the order of the
    /// float sums); its distance from the float convolution of the unrounded operands is the bf16 error, printed.
    /// </summary>
    [Theory]
    [MemberData(nameof(Convolutions))]
    public void Bf16ConvolutionIsTheFloatConvolutionOfRoundedOperands(int[] xShape, int[] wShape, Conv2dParams p)
    {
        if (NotRunnable()) return;
        using var x = RandomTensors.Uniform(Device.Cpu, 21, -1, 1, xShape);
        using var w = RandomTensors.Uniform(Device.Cpu, 22, -0.2f, 0.2f, wShape);
        using var b = RandomTensors.Uniform(Device.Cpu, 23, -1, 1, wShape[0]);
        using var packed = Bf16ConvWeights.Pack(w, p.Groups);
        using var y = Conv2d.Forward(x, w, b, p, null, packed);
        using var xr = RoundedCopy(x);
        using var wr = RoundedCopy(w);
        using var rounded = Conv2d.Forward(xr, wr, b, p, Conv2d.CpuColumnBudgetBytes, CpuConvAlgorithm.ImplicitGemm);
        using var exact = Conv2d.Forward(x, w, b, p, Conv2d.CpuColumnBudgetBytes, CpuConvAlgorithm.ImplicitGemm);
        var sameOperands = KernelCheckRunner.Compare("conv2d", [rounded], [y], 1e-5);
        var bf16Error = KernelCheckRunner.Compare("conv2d", [exact], [y], 1);
        output.WriteLine($"against rounded operands {sameOperands.RelativeError:g3}; against float operands (the bf16 error) {bf16Error.RelativeError:g3}");
        Assert.True(sameOperands.Passed, sameOperands.Failure ?? $"relative error {sameOperands.RelativeError:g3} against the rounded operands' float convolution");
    }

    [Fact]
    public void PackedWeightsRefuseAnotherWeight()
    {
        if (NotRunnable()) return;
        using var x = RandomTensors.Uniform(Device.Cpu, 1, -1, 1, 1, 4, 5, 5);
        using var w = RandomTensors.Uniform(Device.Cpu, 2, -1, 1, 6, 4, 3, 3);
        using var other = RandomTensors.Uniform(Device.Cpu, 3, -1, 1, 6, 4, 1, 1);
        using var packed = Bf16ConvWeights.Pack(other, 1);
        var error = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, Conv2dParams.Default, null, packed));
        Assert.Contains("bf16 weights packed from a [6, 4, 1, 1] weight", error.Message);
    }

    private bool NotRunnable()
    {
        if (Bf16PanelKernel.Unavailable is not { } why) return false;
        output.WriteLine($"not run: {why}");
        return true;
    }

    private static Tensor RoundedCopy(Tensor t)
    {
        var values = t.ToArray<float>().Select(Bf16PanelTwin.Rounded).ToArray();
        return Tensor.FromArray(values, t.Shape.ToArray());
    }

    private static float[] RandomValues(int seed, int count, float scale)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static uint[] RandomPairs(int seed, int count)
    {
        var values = RandomValues(seed, 2 * count, 1);
        return Enumerable.Range(0, count).Select(i => Bf16PanelTwin.Round(values[2 * i]) | (uint)Bf16PanelTwin.Round(values[2 * i + 1]) << 16).ToArray();
    }
}
