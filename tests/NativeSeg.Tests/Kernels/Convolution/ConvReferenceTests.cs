using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Dense;

namespace NativeSeg.Tests.Kernels.Convolution;

/// <summary>The CPU ops against direct-summation loops written from torch's definitions.</summary>
public class ConvReferenceTests
{
    public static TheoryData<int[], int[], int, int, int, int, int, int, int, long> Conv2dCases => new()
    {
        // x, weight, strideH, strideW, padH, padW, dilationH, dilationW, groups, budget (0 = default)
        { [2, 4, 9, 7], [6, 4, 3, 3], 1, 1, 1, 1, 1, 1, 1, 0 },
        { [1, 6, 10, 11], [4, 3, 3, 2], 2, 1, 0, 3, 1, 2, 2, 0 },
        { [1, 3, 8, 8], [3, 1, 3, 3], 1, 1, 2, 2, 2, 2, 3, 0 },
        { [3, 5, 4, 6], [7, 5, 1, 1], 1, 1, 0, 0, 1, 1, 1, 0 },
        { [1, 5, 9, 9], [2, 5, 1, 1], 3, 2, 1, 0, 1, 1, 1, 0 },
        { [1, 4, 13, 5], [3, 4, 5, 3], 1, 2, 2, 1, 1, 1, 1, 4 * 15 * 3 * 4 },
        { [2, 2, 7, 9], [4, 1, 3, 3], 2, 2, 1, 1, 1, 1, 2, 1 },
        // Implicit GEMM edges: filters not a multiple of 8, panels of 48 pixels spanning rows and images.
        { [3, 5, 7, 9], [13, 5, 3, 3], 1, 1, 1, 1, 1, 1, 1, 0 },
        { [2, 16, 20, 30], [24, 8, 3, 3], 1, 1, 1, 1, 1, 1, 2, 0 },
        { [1, 3, 31, 37], [9, 3, 7, 7], 2, 2, 3, 3, 1, 1, 1, 0 },
    };

    [Theory]
    [MemberData(nameof(Conv2dCases))]
    public void Conv2dMatchesDirectSummation(int[] xShape, int[] wShape, int sh, int sw, int ph, int pw, int dh, int dw, int groups, long budget)
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 11, -1, 1, xShape);
        using var w = RandomTensors.Uniform(Device.Cpu, 12, -1, 1, wShape);
        using var b = RandomTensors.Uniform(Device.Cpu, 13, -1, 1, wShape[0]);
        var p = new Conv2dParams { Stride = new(sh, sw), Padding = new(ph, pw), Dilation = new(dh, dw), Groups = groups, FuseRelu = true };
        using var expected = DirectConv2d(x, w, b, p);
        // Every CPU path: the default choice, im2col + OpenBLAS with the budget, and Winograd where it computes the shape.
        using var y = Conv2d.Forward(x, w, b, p);
        ConvAssert.Close(expected, y);
        using var viaColumns = Conv2d.Forward(x, w, b, p, budget == 0 ? Conv2d.CpuColumnBudgetBytes : budget, CpuConvAlgorithm.Columns);
        ConvAssert.Close(expected, viaColumns);
        if (Conv2dWinograd.Computes(Conv2d.Geometry(x, w, b, p)))
        {
            using var viaWinograd = Conv2d.Forward(x, w, b, p, Conv2d.CpuColumnBudgetBytes, CpuConvAlgorithm.Winograd);
            ConvAssert.Close(expected, viaWinograd);
        }
    }

    public static TheoryData<int[], int[], int, int, int, int, int, long> ConvTransposeCases => new()
    {
        // x, weight [Cin, Cout/groups, R, S], stride, padding, outputPadding, dilation, groups, budget
        { [2, 4, 5, 6], [4, 3, 2, 2], 2, 0, 0, 1, 1, 0 },
        { [1, 4, 6, 5], [4, 2, 3, 3], 2, 1, 1, 1, 2, 0 },
        { [1, 3, 7, 4], [3, 2, 3, 3], 1, 2, 0, 2, 1, 0 },
        { [1, 2, 9, 5], [2, 3, 4, 4], 3, 1, 2, 1, 1, 3 * 16 * 5 * 4 },
        { [1, 2, 8, 3], [2, 2, 3, 3], 2, 1, 1, 1, 1, 1 },
        // Several images per column block, 20 outputs per tap (not a multiple of 8), groups.
        { [7, 6, 5, 9], [6, 5, 2, 2], 2, 0, 0, 1, 2, 0 },
    };

    [Theory]
    [MemberData(nameof(ConvTransposeCases))]
    public void ConvTranspose2dMatchesScatterDefinition(int[] xShape, int[] wShape, int stride, int padding, int outputPadding, int dilation, int groups, long budget)
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 21, -1, 1, xShape);
        using var w = RandomTensors.Uniform(Device.Cpu, 22, -1, 1, wShape);
        using var b = RandomTensors.Uniform(Device.Cpu, 23, -1, 1, wShape[1] * groups);
        var p = new ConvTranspose2dParams { Stride = stride, Padding = padding, OutputPadding = outputPadding, Dilation = dilation, Groups = groups };
        long columnBudget = budget == 0 ? Conv2d.CpuColumnBudgetBytes : budget;
        using var expected = ScatterConvTranspose2d(x, w, b, p);
        using var y = ConvTranspose2d.Forward(x, w, b, p, columnBudget);
        ConvAssert.Close(expected, y);
        using var viaOpenBlas = ConvTranspose2d.Forward(x, w, b, p, columnBudget, implicitGemm: false);
        ConvAssert.Close(expected, viaOpenBlas);
    }

    [Fact]
    public void LinearMatchesDotProducts()
    {
        using var x = RandomTensors.Uniform(Device.Cpu, 31, -1, 1, 2, 3, 17);
        using var w = RandomTensors.Uniform(Device.Cpu, 32, -1, 1, 9, 17);
        using var b = RandomTensors.Uniform(Device.Cpu, 33, -1, 1, 9);
        using var y = Linear.Forward(x, w, b, fuseRelu: true);
        Assert.Equal(new Shape(2, 3, 9), y.Shape);
        float[] xs = x.ToArray<float>(), ws = w.ToArray<float>(), bs = b.ToArray<float>(), expected = new float[6 * 9];
        for (int n = 0; n < 6; n++)
        for (int o = 0; o < 9; o++)
        {
            double sum = bs[o];
            for (int i = 0; i < 17; i++) sum += xs[n * 17 + i] * ws[o * 17 + i];
            expected[n * 9 + o] = (float)Math.Max(sum, 0);
        }
        using var e = Tensor.FromArray(expected, 2, 3, 9);
        ConvAssert.Close(e, y);
    }

    [Fact]
    public void ConvOfBatchZeroIsEmpty()
    {
        using var x = Tensor.Zeros(new Shape(0, 3, 5, 5), DType.Float32, Device.Cpu);
        using var w = RandomTensors.Uniform(Device.Cpu, 1, -1, 1, 4, 3, 3, 3);
        using var y = Conv2d.Forward(x, w, null, new Conv2dParams { Padding = 1 });
        Assert.Equal(new Shape(0, 4, 5, 5), y.Shape);
    }

    private static Tensor DirectConv2d(Tensor x, Tensor w, Tensor b, Conv2dParams p)
    {
        var g = Conv2d.Geometry(x, w, b, p);
        float[] xs = x.ToArray<float>(), ws = w.ToArray<float>(), bs = b.ToArray<float>();
        var y = new float[g.N * g.K * g.OutH * g.OutW];
        int cg = g.C / g.Groups, kg = g.K / g.Groups;
        for (int n = 0; n < g.N; n++)
        for (int k = 0; k < g.K; k++)
        for (int oh = 0; oh < g.OutH; oh++)
        for (int ow = 0; ow < g.OutW; ow++)
        {
            double sum = bs[k];
            for (int c = 0; c < cg; c++)
            for (int r = 0; r < g.R; r++)
            for (int s = 0; s < g.S; s++)
            {
                int ih = oh * g.StrideH - g.PadH + r * g.DilationH, iw = ow * g.StrideW - g.PadW + s * g.DilationW;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                int ci = k / kg * cg + c;
                sum += xs[((n * g.C + ci) * g.H + ih) * g.W + iw] * ws[((k * cg + c) * g.R + r) * g.S + s];
            }
            y[((n * g.K + k) * g.OutH + oh) * g.OutW + ow] = (float)(p.FuseRelu ? Math.Max(sum, 0) : sum);
        }
        return Tensor.FromArray(y, g.N, g.K, g.OutH, g.OutW);
    }

    /// <summary>Each input pixel scatters weight·x into the output, which is how torch defines the op.</summary>
    private static Tensor ScatterConvTranspose2d(Tensor x, Tensor w, Tensor b, ConvTranspose2dParams p)
    {
        int n = x.Shape[0], cin = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int coutG = w.Shape[1], r = w.Shape[2], s = w.Shape[3], cout = coutG * p.Groups, cinG = cin / p.Groups;
        int outH = (h - 1) * p.Stride.H - 2 * p.Padding.H + p.Dilation.H * (r - 1) + p.OutputPadding.H + 1;
        int outW = (wd - 1) * p.Stride.W - 2 * p.Padding.W + p.Dilation.W * (s - 1) + p.OutputPadding.W + 1;
        float[] xs = x.ToArray<float>(), ws = w.ToArray<float>(), bs = b.ToArray<float>();
        var y = new double[n * cout * outH * outW];
        for (int i = 0; i < n; i++)
        for (int co = 0; co < cout; co++)
        for (int j = 0; j < outH * outW; j++) y[(i * cout + co) * outH * outW + j] = bs[co];
        for (int i = 0; i < n; i++)
        for (int ci = 0; ci < cin; ci++)
        for (int ih = 0; ih < h; ih++)
        for (int iw = 0; iw < wd; iw++)
        for (int cl = 0; cl < coutG; cl++)
        for (int kr = 0; kr < r; kr++)
        for (int ks = 0; ks < s; ks++)
        {
            int oh = ih * p.Stride.H - p.Padding.H + kr * p.Dilation.H, ow = iw * p.Stride.W - p.Padding.W + ks * p.Dilation.W;
            if (oh < 0 || oh >= outH || ow < 0 || ow >= outW) continue;
            int co = ci / cinG * coutG + cl;
            y[((i * cout + co) * outH + oh) * outW + ow] += xs[((i * cin + ci) * h + ih) * wd + iw] * ws[((ci * coutG + cl) * r + kr) * s + ks];
        }
        return Tensor.FromArray(Array.ConvertAll(y, v => (float)v), n, cout, outH, outW);
    }
}
