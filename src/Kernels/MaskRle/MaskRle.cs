using System.Runtime.InteropServices;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskRle;

/// <summary>
/// COCO RLE, pycocotools' <c>encode</c>, of whole-image bitmasks made on the device they were pasted on, in two steps
/// so the host learns the size of the result with whatever else it copies back first: <see cref="Layout"/> counts each
/// row's runs, <see cref="Encode"/> writes every live row's run lengths into one int32 list, row after row. The bits
/// are <see cref="MaskPaste.MaskPaste.PasteBits"/>' rows (bit b of word w is pixel 32w + b of the column-major scan);
/// rows at or past the live count, which the paste leaves unwritten, are never read. The CPU twin is
/// <see cref="BitmaskRle"/>, the encoder the host used before the device made the runs.
/// </summary>
public static class MaskRle
{
    private const string Op = "mask_rle";

    /// <summary>Words a thread reads per step on the device (MR_CHUNK_WORDS in the source).</summary>
    internal const int ChunkWords = 32;

    private const int ScanThreads = 256;

    private static KernelSource Source => KernelCatalog.Get("MaskRle/MaskRle.cu");

    /// <summary>Each row's run count (and on a device, where its runs go).</summary>
    /// <param name="bits">int32 [R, words] of <paramref name="height"/>×<paramref name="width"/> masks.</param>
    /// <param name="count">int64 [1]: the live rows, the first ones; on the bits' device.</param>
    public static RunLayout Layout(Tensor bits, Tensor count, int height, int width)
    {
        int chunks = Validate(bits, count, height, width);
        int rows = bits.Shape[0];
        var runs = Tensor.Empty(bits.Device, DType.Int32, rows);
        if (bits.Device.IsCpu)
        {
            var words = bits.AsSpan<int>();
            var perRow = runs.AsSpan<int>();
            int live = Live(count, rows);
            for (int r = 0; r < rows; r++)
                perRow[r] = r < live ? BitmaskRle.FromColumnMajorBits(words.Slice(r * bits.Shape[1], bits.Shape[1]), height, width).Counts.Length : 0;
            return new RunLayout(runs, Tensor.Empty(bits.Device, DType.Int64, 0));
        }
        var offsets = Tensor.Empty(bits.Device, DType.Int64, rows * chunks);
        if (rows > 0) LaunchLayout(bits, count, offsets, runs, (long)height * width, chunks);
        return new RunLayout(runs, offsets);
    }

    /// <summary>
    /// The run lengths of every live row, row after row, as int32 [<paramref name="total"/>] (each a uint32 count): row
    /// r's are its <see cref="RunLayout.Runs"/>[r] entries after the earlier rows'. <paramref name="total"/> is the sum
    /// of the live rows' run counts, read back by the host.
    /// </summary>
    public static Tensor Encode(Tensor bits, Tensor count, RunLayout layout, int height, int width, int total)
    {
        int chunks = Validate(bits, count, height, width);
        Check.That(total >= 0, Op, $"run total must not be negative, got {total}");
        Check.SameDevice(Op, bits, layout.Runs);
        int rows = bits.Shape[0];
        var lengths = Tensor.Empty(bits.Device, DType.Int32, total);
        if (bits.Device.IsCpu) EncodeCpu(bits, Live(count, rows), height, width, lengths);
        else if (total > 0) LaunchEncode(bits, count, layout, lengths, (long)height * width, chunks);
        return lengths;
    }

    private static int Validate(Tensor bits, Tensor count, int height, int width)
    {
        Check.Rank(bits, 2, Op, "bits");
        Check.DType(bits, DType.Int32, Op, "bits");
        Check.That(height > 0 && width > 0, Op, $"mask size {height}x{width} must be positive");
        long words = MaskPaste.MaskPaste.BitWords(height, width);
        Check.That(bits.Shape[1] == words, Op, $"bits {bits.Shape} must have {words} words per row for {height}x{width} masks");
        Check.That(count.DType == DType.Int64 && count.Numel == 1, Op, $"count must be one int64, got {count.DType.Name()} {count.Shape}");
        Check.SameDevice(Op, bits, count);
        // A row's run count is an int32, and may be a run per pixel and one more.
        Check.That((long)height * width < int.MaxValue, Op, $"{height}x{width} masks have more pixels than an int32 run count covers");
        return (int)((words + ChunkWords - 1) / ChunkWords);
    }

    private static int Live(Tensor count, int rows) => (int)Math.Clamp(count.AsSpan<long>()[0], 0, rows);

    private static void EncodeCpu(Tensor bits, int live, int height, int width, Tensor lengths)
    {
        var words = bits.AsSpan<int>();
        var output = MemoryMarshal.Cast<int, uint>(lengths.AsSpan<int>());
        int stride = bits.Shape[1], at = 0;
        for (int r = 0; r < live; r++)
        {
            var counts = BitmaskRle.FromColumnMajorBits(words.Slice(r * stride, stride), height, width).Counts;
            Check.That(at + counts.Length <= output.Length, Op, $"the live rows have more runs than the {output.Length} asked for");
            counts.CopyTo(output[at..]);
            at += counts.Length;
        }
        Check.That(at == output.Length, Op, $"the live rows have {at} runs, not the {output.Length} asked for");
    }

    private static unsafe void LaunchLayout(Tensor bits, Tensor count, Tensor offsets, Tensor runs, long pixels, int chunks)
    {
        var gpu = bits.Device.Gpu;
        using var starts = Tensor.Empty(bits.Device, DType.Int32, offsets.Shape[0]);
        nint bitPtr = bits.Pointer, countPtr = count.Pointer, startPtr = starts.Pointer, offsetPtr = offsets.Pointer, runPtr = runs.Pointer;
        int rows = bits.Shape[0];
        long words = bits.Shape[1];
        void** counting = stackalloc void*[] { &bitPtr, &countPtr, &rows, &words, &pixels, &chunks, &startPtr };
        gpu.Launch(gpu.GetKernel(Source, "mask_rle_chunk_starts"), Dim3.Cover(starts.Numel, 256), new Dim3(256), 0, counting, 7);
        void** scanning = stackalloc void*[] { &startPtr, &countPtr, &rows, &chunks, &offsetPtr, &runPtr };
        gpu.Launch(gpu.GetKernel(Source, "mask_rle_scan_chunks"), new Dim3(1), new Dim3(ScanThreads), 0, scanning, 6);
    }

    private static unsafe void LaunchEncode(Tensor bits, Tensor count, RunLayout layout, Tensor lengths, long pixels, int chunks)
    {
        var gpu = bits.Device.Gpu;
        long n = lengths.Numel;
        using var boundaries = Tensor.Empty(bits.Device, DType.Int64, lengths.Shape[0]);
        nint bitPtr = bits.Pointer, offsetPtr = layout.ChunkOffsets.Pointer, countPtr = count.Pointer, boundaryPtr = boundaries.Pointer, lengthPtr = lengths.Pointer;
        int rows = bits.Shape[0];
        long words = bits.Shape[1];
        void** writing = stackalloc void*[] { &bitPtr, &offsetPtr, &countPtr, &rows, &words, &pixels, &chunks, &n, &boundaryPtr };
        gpu.Launch(gpu.GetKernel(Source, "mask_rle_boundaries"), Dim3.Cover(layout.ChunkOffsets.Numel, 256), new Dim3(256), 0, writing, 9);
        void** differencing = stackalloc void*[] { &boundaryPtr, &n, &lengthPtr };
        gpu.Launch(gpu.GetKernel(Source, "mask_rle_counts"), Dim3.Cover(n, 256), new Dim3(256), 0, differencing, 3);
    }
}
