using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

/// <summary>
/// One axis of a separable resampling filter over 8-bit interleaved images [H, W, C], in integer arithmetic only, so
/// the device and this CPU twin give the same bytes. The filter comes as taps (int32, one tensor per axis) for the
/// n outputs of the axis with at most k taps each, laid out <c>start[n] | count[n] | weights[n·k]</c>: output o is
/// <c>clip(Σ in[start[o] + t] · weights[o·k + t] + half) &gt;&gt; fractionBits</c> over <c>t &lt; count[o]</c>,
/// clipped to 0..255. Whoever computes the taps decides what filter this is.
/// </summary>
public static class FixedPointResample
{
    private const string Op = "resample_fixed_point";

    private static KernelSource Source => KernelCatalog.Get("Resampling/FixedPointResample.cu");

    /// <summary><paramref name="pixels"/> (uint8 [H, W, C]) resampled along the width to <paramref name="width"/> columns.</summary>
    public static Tensor Horizontal(Tensor pixels, Tensor taps, int width, int fractionBits) => Resample(pixels, taps, width, fractionBits, alongWidth: true);

    /// <summary><paramref name="pixels"/> (uint8 [H, W, C]) resampled along the height to <paramref name="height"/> rows.</summary>
    public static Tensor Vertical(Tensor pixels, Tensor taps, int height, int fractionBits) => Resample(pixels, taps, height, fractionBits, alongWidth: false);

    private static Tensor Resample(Tensor pixels, Tensor taps, int outSize, int fractionBits, bool alongWidth)
    {
        string axis = alongWidth ? "width" : "height";
        int k = Validate(pixels, taps, outSize, fractionBits, axis);
        int h = pixels.Shape[0], w = pixels.Shape[1], channels = pixels.Shape[2];
        var y = alongWidth ? Tensor.Empty(pixels.Device, DType.UInt8, h, outSize, channels) : Tensor.Empty(pixels.Device, DType.UInt8, outSize, w, channels);
        if (y.Numel == 0) return y;
        if (pixels.Device.IsCpu)
        {
            CheckTaps(taps, outSize, k, alongWidth ? w : h, axis);
            if (alongWidth) HorizontalCpu(pixels, taps, y, k, fractionBits);
            else VerticalCpu(pixels, taps, y, k, fractionBits);
        }
        else if (alongWidth)
        {
            LaunchHorizontal(pixels, taps, y, k, fractionBits);
        }
        else
        {
            LaunchVertical(pixels, taps, y, k, fractionBits);
        }
        return y;
    }

    /// <summary>The shapes and the fraction bits, checked; the number of taps per output.</summary>
    private static int Validate(Tensor pixels, Tensor taps, int outSize, int fractionBits, string axis)
    {
        Check.DType(pixels, DType.UInt8, Op, "pixels");
        Check.Rank(pixels, 3, Op, "pixels");
        Check.DType(taps, DType.Int32, Op, "taps");
        Check.Rank(taps, 1, Op, "taps");
        Check.SameDevice(Op, pixels, taps);
        Check.That(outSize > 0, Op, $"output {axis} {outSize} must be positive (pixels {pixels.Shape})");
        // 8 bits of pixel and a sign bit must fit beside the fraction in an int accumulator.
        Check.That(fractionBits is >= 1 and <= 22, Op, $"fraction bits {fractionBits} must lie in [1, 22]");
        long perOutput = taps.Numel / outSize;
        Check.That(taps.Numel % outSize == 0 && perOutput >= 3, Op,
            $"taps {taps.Shape} are not start, count and at least one weight for each of {outSize} outputs along the {axis}");
        return (int)(perOutput - 2);
    }

    // Only the CPU can look at the taps without a copy; the kernel reads nothing outside the image whatever they hold.
    private static void CheckTaps(Tensor taps, int outSize, int k, int inSize, string axis)
    {
        var t = taps.AsSpan<int>();
        for (int o = 0; o < outSize; o++)
        {
            int start = t[o], count = t[outSize + o];
            Check.That(start >= 0 && count >= 0 && count <= k && (long)start + count <= inSize, Op,
                $"output {o} along the {axis} takes {count} taps from input {start}: outside 0..{inSize} or more than {k}");
        }
    }

    private static byte ToByte(int sum, int fractionBits) => (byte)Math.Clamp(sum >> fractionBits, 0, 255);

    private static unsafe void HorizontalCpu(Tensor pixels, Tensor taps, Tensor y, int k, int fractionBits)
    {
        int h = pixels.Shape[0], w = pixels.Shape[1], channels = pixels.Shape[2], ow = y.Shape[1];
        byte* src = (byte*)pixels.Pointer, dst = (byte*)y.Pointer;
        int* start = (int*)taps.Pointer, count = start + ow, weights = count + ow;
        int half = 1 << (fractionBits - 1);
        CpuThreads.For(h, (first, last) =>
        {
            for (int row = first; row < last; row++)
            {
                byte* input = src + (long)row * w * channels;
                byte* output = dst + (long)row * ow * channels;
                for (int o = 0; o < ow; o++)
                {
                    byte* p = input + (long)start[o] * channels;
                    int* wo = weights + (long)o * k;
                    for (int c = 0; c < channels; c++)
                    {
                        int sum = half;
                        for (int t = 0; t < count[o]; t++) sum += p[t * channels + c] * wo[t];
                        output[o * channels + c] = ToByte(sum, fractionBits);
                    }
                }
            }
        });
    }

    private static unsafe void VerticalCpu(Tensor pixels, Tensor taps, Tensor y, int k, int fractionBits)
    {
        int row = pixels.Shape[1] * pixels.Shape[2], oh = y.Shape[0];
        byte* src = (byte*)pixels.Pointer, dst = (byte*)y.Pointer;
        int* start = (int*)taps.Pointer, count = start + oh, weights = count + oh;
        int half = 1 << (fractionBits - 1);
        CpuThreads.For(oh, (first, last) =>
        {
            for (int o = first; o < last; o++)
            {
                byte* p = src + (long)start[o] * row;
                byte* output = dst + (long)o * row;
                int* wo = weights + (long)o * k;
                for (int j = 0; j < row; j++)
                {
                    int sum = half;
                    for (int t = 0; t < count[o]; t++) sum += p[(long)t * row + j] * wo[t];
                    output[j] = ToByte(sum, fractionBits);
                }
            }
        });
    }

    private static unsafe void LaunchHorizontal(Tensor pixels, Tensor taps, Tensor y, int k, int fractionBits)
    {
        var gpu = pixels.Device.Gpu;
        nint x = pixels.Pointer, t = taps.Pointer, output = y.Pointer;
        long h = pixels.Shape[0];
        int w = pixels.Shape[1], channels = pixels.Shape[2], ow = y.Shape[1];
        void** args = stackalloc void*[] { &x, &t, &output, &h, &w, &channels, &ow, &k, &fractionBits };
        gpu.Launch(gpu.GetKernel(Source, "resample_horizontal_u8"), Dim3.Cover(y.Numel, 256), new Dim3(256), 0, args, 9);
    }

    private static unsafe void LaunchVertical(Tensor pixels, Tensor taps, Tensor y, int k, int fractionBits)
    {
        var gpu = pixels.Device.Gpu;
        nint x = pixels.Pointer, t = taps.Pointer, output = y.Pointer;
        int h = pixels.Shape[0], oh = y.Shape[0];
        long row = (long)pixels.Shape[1] * pixels.Shape[2];
        void** args = stackalloc void*[] { &x, &t, &output, &h, &row, &oh, &k, &fractionBits };
        gpu.Launch(gpu.GetKernel(Source, "resample_vertical_u8"), Dim3.Cover(y.Numel, 256), new Dim3(256), 0, args, 8);
    }
}
