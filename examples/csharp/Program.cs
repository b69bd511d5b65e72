// segment-image MODEL IMAGE: segments an image with the NativeSeg package and prints, per instance, the
// category id, score, box (x1 y1 x2 y2), mask area and the mask's FNV-1a hash, as examples/c/segment_image does.
using System.Globalization;
using NativeSeg.Api;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: segment-image MODEL.safetensors IMAGE");
    return 2;
}
using var model = Segmenter.Load(args[0], device: "cpu");
var instances = model.Segment(args[1]);
Console.WriteLine($"{model.Architecture} on {model.Device}: {instances.Count} instances");
foreach (var instance in instances)
{
    ulong hash = 14695981039346656037UL;
    foreach (byte b in instance.MaskPixels()) hash = (hash ^ b) * 1099511628211UL;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{instance.CategoryId} {(double)instance.Score:F6} {(double)instance.X1:F3} {(double)instance.Y1:F3} {(double)instance.X2:F3} {(double)instance.Y2:F3} {instance.Mask.Area} {hash:x16}"));
}
return 0;
