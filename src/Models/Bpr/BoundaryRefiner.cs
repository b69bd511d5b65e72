using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoundaryPatches;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.Bpr;

/// <summary>
/// Boundary patch refinement of one image's instance masks: patches along every mask's boundary, the network over
/// them in batches of <see cref="BprConfig.BatchSize"/>, and the refined patches pasted back. Instances are refined
/// independently; a mask without a boundary (empty or full) and every pixel outside the patches keep their coarse value.
/// </summary>
public sealed class BoundaryRefiner(BprNetwork network)
{
    /// <summary>The stage names <see cref="Refine"/> charges a <see cref="StageClock"/> with.</summary>
    public const string ExtractStage = "bpr extract", NetworkStage = "bpr network", ReassembleStage = "bpr reassemble";

    public BprNetwork Network { get; } = network;

    /// <summary>
    /// Refined masks, uint8 [N, H, W] of 0/1, for the uint8 RGB <paramref name="image"/> [H, W, 3] and coarse
    /// <paramref name="masks"/> [N, H, W] (non-zero = foreground), both on the network's device.
    /// </summary>
    public (Tensor Refined, int Patches) Refine(Tensor image, Tensor masks, StageClock? clock = null)
    {
        var config = Network.Config;
        using var scope = TensorScope.Begin();
        using var proposals = BoundaryPatches.Propose(masks, config.PatchSize, config.IouThreshold);
        clock?.Lap(ExtractStage);
        var logits = new List<Tensor>();
        for (int start = 0; start < proposals.Count; start += config.BatchSize)
        {
            int count = Math.Min(config.BatchSize, proposals.Count - start);
            clock?.Lap(NetworkStage);
            using var input = BoundaryPatches.Crop(image, masks, proposals, config.InputSize, BprConfig.Normalization, start, count);
            clock?.Lap(ExtractStage);
            logits.Add(Network.PatchLogits(input, config.PatchSize));
        }
        var all = logits.Count switch
        {
            0 => Tensor.Empty(masks.Device, DType.Float32, 0, 2, config.PatchSize, config.PatchSize),
            1 => logits[0],
            _ => Concat.Forward(logits, 0),
        };
        clock?.Lap(NetworkStage);
        var refined = BoundaryPatches.Reassemble(all, proposals, masks);
        clock?.Lap(ReassembleStage);
        return (scope.Keep(refined), proposals.Count);
    }
}
