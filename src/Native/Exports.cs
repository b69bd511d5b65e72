using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeSeg.Api;

namespace NativeSeg.Native;

/// <summary>
/// The functions of nativeseg.h. Each one catches everything: no exception crosses into C. A failing call
/// sets the thread's last error, returns its status and leaves its out-pointer NULL.
/// </summary>
internal static unsafe class Exports
{
    private static readonly Handles<Segmenter> Models = new("ns_model");
    private static readonly Handles<NativeResult> Results = new("ns_result");

    [UnmanagedCallersOnly(EntryPoint = "ns_version")]
    public static byte* Version() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(NativeVersion.Utf8));

    [UnmanagedCallersOnly(EntryPoint = "ns_last_error")]
    public static byte* GetLastError() => LastError.Current;

    [UnmanagedCallersOnly(EntryPoint = "ns_model_load")]
    public static Status ModelLoad(byte* modelPath, byte* device, nint* outModel) => Call(outModel, () =>
    {
        string path = Utf8(modelPath, "model_path") ?? throw new ArgumentException("model_path is NULL");
        return Models.Add(Segmenter.Load(path, Utf8(device, "device") ?? "auto"));
    });

    [UnmanagedCallersOnly(EntryPoint = "ns_segment_file")]
    public static Status SegmentFile(nint model, byte* imagePath, float scoreThreshold, nint* outResult) => Call(outResult, () =>
    {
        var segmenter = Models.Get(model, "model");
        string path = Utf8(imagePath, "image_path") ?? throw new ArgumentException("image_path is NULL");
        return Results.Add(new NativeResult(segmenter.Segment(path, scoreThreshold)));
    });

    [UnmanagedCallersOnly(EntryPoint = "ns_segment_rgb8")]
    public static Status SegmentRgb8(nint model, byte* rgb, int width, int height, int rowStrideBytes, float scoreThreshold, nint* outResult) =>
        Call(outResult, () =>
        {
            var segmenter = Models.Get(model, "model");
            if (rgb is null) throw new ArgumentException("rgb is NULL");
            if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} must be positive");
            if (rowStrideBytes < 3L * width) throw new ArgumentException($"row_stride_bytes {rowStrideBytes} is below 3 x width ({3L * width})");
            long length = (long)rowStrideBytes * (height - 1) + 3L * width;
            if (length > int.MaxValue) throw new ArgumentException($"a {width}x{height} image with row stride {rowStrideBytes} spans {length} bytes, over the 2 GiB one call takes");
            return Results.Add(new NativeResult(segmenter.Segment(new ReadOnlySpan<byte>(rgb, (int)length), width, height, rowStrideBytes, scoreThreshold)));
        });

    [UnmanagedCallersOnly(EntryPoint = "ns_result_count")]
    public static int ResultCount(nint result)
    {
        try
        {
            return Results.Get(result, "result").Segmentation.Count;
        }
        catch (Exception e)
        {
            LastError.Set(e.Message);
            return -1;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ns_result_get")]
    public static Status ResultGet(nint result, int index, NativeInstance* outInstance)
    {
        try
        {
            if (outInstance is null) throw new ArgumentException("out_instance is NULL");
            *outInstance = default;
            var owner = Results.Get(result, "result");
            var all = owner.Segmentation;
            if ((uint)index >= (uint)all.Count) throw new ArgumentException($"index {index} is outside the result's {all.Count} instances");
            var instance = all[index];
            *outInstance = new NativeInstance
            {
                X1 = instance.X1,
                Y1 = instance.Y1,
                X2 = instance.X2,
                Y2 = instance.Y2,
                Score = instance.Score,
                CategoryId = checked((int)instance.CategoryId),
                MaskWidth = all.ImageWidth,
                MaskHeight = all.ImageHeight,
                Mask = owner.Mask(index),
            };
            return Status.Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ns_result_free")]
    public static void ResultFree(nint result) => Free(Results, result, "result");

    [UnmanagedCallersOnly(EntryPoint = "ns_model_free")]
    public static void ModelFree(nint model) => Free(Models, model, "model");

    private static void Free<T>(Handles<T> handles, nint handle, string parameter) where T : class, IDisposable
    {
        if (handle == 0) return;
        try
        {
            handles.Remove(handle, parameter).Dispose();
        }
        catch (Exception e)
        {
            LastError.Set(e.Message);
        }
    }

    private static Status Call(nint* output, Func<nint> run)
    {
        if (output is null) return Fail(new ArgumentException("the out-pointer is NULL"));
        *output = 0;
        try
        {
            *output = run();
            return Status.Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    private static Status Fail(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e;
        LastError.Set(inner.Message);
        return StatusOf.Exception(inner);
    }

    private static string? Utf8(byte* text, string parameter)
    {
        if (text is null) return null;
        return Marshal.PtrToStringUTF8((nint)text) ?? throw new ArgumentException($"{parameter} is not UTF-8");
    }
}
