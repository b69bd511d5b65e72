using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoundaryPatches;
using NativeSeg.Kernels.Resampling;

namespace NativeSeg.Models.Bpr.Training;

/// <summary>A batch of patches as the network sees them: the input [B, 4, S, S] and the 0/1 target [B, 1, S, S].</summary>
public sealed class BprBatch : IDisposable
{
    private BprBatch(Tensor input, Tensor target)
    {
        Input = input;
        Target = target;
    }

    public Tensor Input { get; }

    public Tensor Target { get; }

    /// <summary>
    /// The patches stacked top to bottom into one image, each with a mask of its own, so the inference crop kernel
    /// makes the input exactly as refinement will (uint8 bilinear resize to the input size, normalisation, the
    /// coarse mask nearest as −1/+1); the target is the ground truth resized nearest, as mmseg resizes labels.
    /// </summary>
    public static BprBatch Build(IReadOnlyList<BprPatch> patches, BprConfig config, Device device)
    {
        int b = patches.Count, side = config.PatchSize, plane = side * side;
        if (patches.Any(p => p.Side != side)) throw new ArgumentException($"BPR batch: every patch must be {side}x{side} for {config.Architecture}");
        var image = new byte[b * plane * 3];
        var masks = new byte[(long)b * b * plane];
        var truth = new float[b * plane];
        var boxes = new int[b * 3];
        var first = new int[b + 1];
        for (int k = 0; k < b; k++)
        {
            patches[k].Image.CopyTo(image, k * plane * 3);
            patches[k].Coarse.CopyTo(masks, ((long)k * b + k) * plane);
            for (int i = 0; i < plane; i++) truth[k * plane + i] = patches[k].Truth[i] != 0 ? 1f : 0f;
            boxes[3 * k] = k;
            boxes[3 * k + 2] = k * side;
            first[k + 1] = k + 1;
        }
        using var scope = TensorScope.Begin();
        var stackedImage = Tensor.FromArray(image, b * side, side, 3).To(device);
        var stackedMasks = Tensor.FromArray(masks, b, b * side, side).To(device);
        using var proposals = new PatchProposals(Tensor.FromArray(boxes, b, 3).To(device), first, side);
        var input = BoundaryPatches.Crop(stackedImage, stackedMasks, proposals, config.InputSize, BprConfig.Normalization);
        var target = Resize.Nearest(Tensor.FromArray(truth, b, 1, side, side).To(device), config.InputSize, config.InputSize);
        return new BprBatch(scope.Keep(input), scope.Keep(target));
    }

    public void Dispose()
    {
        Input.Dispose();
        Target.Dispose();
    }
}
