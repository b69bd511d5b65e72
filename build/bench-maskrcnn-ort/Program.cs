using System.Text.Json;
using BenchMaskRcnnOrt;
using Microsoft.ML.OnnxRuntime;

// bench-maskrcnn-ort --model MODEL.onnx [--threads T] --json OUT.json IMAGE...
// Runs torchvision's Mask R-CNN export on each image in turn and writes the detections as COCO results.
var options = Arguments.Parse(args);
using var sessionOptions = new SessionOptions
{
    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    IntraOpNumThreads = options.Threads,
    InterOpNumThreads = 1,
};
using var session = new InferenceSession(options.Model, sessionOptions);
var results = new List<CocoResult>();
foreach (var path in options.Images)
{
    var image = RgbImage.Read(path);
    results.AddRange(MaskRcnnSession.Run(session, image, ImageId.Of(path)));
}
var partial = options.Json + ".partial";
await using (var stream = File.Create(partial))
{
    await JsonSerializer.SerializeAsync(stream, results, CocoResultJson.Default.ListCocoResult);
}
File.Move(partial, options.Json, overwrite: true);
Console.WriteLine($"{options.Images.Count} images, {results.Count} detections -> {options.Json}");
