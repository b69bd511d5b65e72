using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.MaskRcnn.Training;
using NativeSeg.Tests.Formats;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn.Training;

/// <summary>tests/reference/make_training_targets_fixtures.py's torchvision 0.14 targets and their inputs.</summary>
internal static class TrainingFixture
{
    private static readonly Lazy<Dictionary<string, (float[]? F, long[]? L, int[]? I, byte[]? B)>> Values = new(Load);

    public static int Height { get; } = 96;

    public static int Width { get; } = 128;

    public static float[] Floats(string name) => Values.Value[name].F ?? throw new KeyNotFoundException(name);

    public static long[] Longs(string name) => Values.Value[name].L ?? throw new KeyNotFoundException(name);

    public static int[] Ints(string name) => Values.Value[name].I ?? throw new KeyNotFoundException(name);

    public static byte[] Bytes(string name) => Values.Value[name].B ?? throw new KeyNotFoundException(name);

    /// <summary>The fixture's GT as torchvision's COCO model sees it: labels are logit indices, masks RLE.</summary>
    public static GroundTruth GroundTruth()
    {
        var masks = Bytes("gt.masks");
        int plane = Height * Width;
        var labels = Longs("gt.labels");
        var segmentations = Enumerable.Range(0, labels.Length)
            .Select(g => (CocoSegmentation)new RleSegmentation(Rle.FromRowMajor(masks.AsSpan(g * plane, plane), Height, Width)))
            .ToList();
        return new GroundTruth(Height, Width, Floats("gt.boxes"), [.. labels.Select(l => (int)l)], segmentations);
    }

    public static MaskRcnnTrainingConfig Torchvision => MaskRcnnTrainingConfig.For(DetectionFlavour.Torchvision);

    public static MaskRcnnTrainingConfig Detectron2 => MaskRcnnTrainingConfig.For(DetectionFlavour.Detectron2);

    /// <summary>max |a − b| / max(1, max |expected|), NaN only where both are NaN.</summary>
    public static double RelativeError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, scale = 1;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsNaN(expected[i]) == float.IsNaN(actual[i]), $"element {i}: expected {expected[i]}, got {actual[i]}");
            if (float.IsNaN(expected[i])) continue;
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return worst / scale;
    }

    private static Dictionary<string, (float[]?, long[]?, int[]?, byte[]?)> Load()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("training_targets.safetensors"));
        Assert.Equal(Height.ToString(), file.Metadata["height"]);
        Assert.Equal(Width.ToString(), file.Metadata["width"]);
        var values = new Dictionary<string, (float[]?, long[]?, int[]?, byte[]?)>();
        foreach (var name in file.Names)
        {
            using var t = file.Load(name);
            values[name] = t.DType.Name() switch
            {
                "float32" => (t.ToArray<float>(), null, null, null),
                "int64" => (null, t.ToArray<long>(), null, null),
                "int32" => (null, null, t.ToArray<int>(), null),
                "uint8" => (null, null, null, t.ToArray<byte>()),
                var other => throw new InvalidDataException($"{name}: unexpected dtype {other}"),
            };
        }
        return values;
    }
}
