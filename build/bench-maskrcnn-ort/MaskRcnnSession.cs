using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BenchMaskRcnnOrt;

/// <summary>One image through the exported model (outputs boxes, labels, scores, masks [N, 1, H, W] probabilities).</summary>
internal static class MaskRcnnSession
{
    public static IEnumerable<CocoResult> Run(InferenceSession session, RgbImage image, long imageId)
    {
        var input = new DenseTensor<float>(image.Planes, [3, image.Height, image.Width]);
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor("image", input)]);
        var boxes = outputs.First(o => o.Name == "boxes").AsTensor<float>();
        var labels = outputs.First(o => o.Name == "labels").AsTensor<long>();
        var scores = outputs.First(o => o.Name == "scores").AsTensor<float>();
        var masks = outputs.First(o => o.Name == "masks").AsTensor<float>();
        int count = scores.Dimensions[0], h = masks.Dimensions[2], w = masks.Dimensions[3];
        var probabilities = masks.ToArray();
        var results = new List<CocoResult>(count);
        for (int i = 0; i < count; i++)
        {
            float x0 = boxes[i, 0], y0 = boxes[i, 1], x1 = boxes[i, 2], y1 = boxes[i, 3];
            var rle = Rle.Encode(probabilities.AsSpan(i * h * w, h * w), h, w);
            results.Add(new CocoResult(imageId, (int)labels[i], [x0, y0, x1 - x0, y1 - y0], scores[i], rle));
        }
        return results;
    }
}
