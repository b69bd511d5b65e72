namespace NativeSeg.Cli.Rendering;

/// <summary>COCO category names by category id, for overlay labels.</summary>
internal static class CocoNames
{
    private static readonly string[] Names =
    [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
        "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
        "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
        "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
        "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
        "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
        "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
        "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
    ];

    /// <summary>The name of a COCO category id, or the id itself for ids outside the 80 classes.</summary>
    public static string Of(long categoryId)
    {
        int i = Models.Detection.DetectorConfig.Coco80.ToList().IndexOf(categoryId);
        return i >= 0 ? Names[i] : categoryId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
