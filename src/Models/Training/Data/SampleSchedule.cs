using NativeSeg.Engine.Randomness;
using NativeSeg.Models.MaskRcnn.Training;

namespace NativeSeg.Models.Training.Data;

/// <summary>What one sample of the stream is: which image, in which epoch and at which position, with which size and flip.</summary>
public readonly record struct SamplePlan(int Epoch, int Position, int ImageIndex, int MinSize, bool Flip);

/// <summary>
/// The infinite sample stream: epoch after epoch, each a fresh seeded permutation of the images, cut into batches
/// that may straddle epochs (as detectron2's TrainingSampler streams them). Every draw is a pure function of
/// (seed, epoch, position), so a batch does not depend on how many workers built the ones before it or on where
/// the loader started.
/// </summary>
public sealed class SampleSchedule
{
    private const ulong ShuffleDomain = 1, ChoiceDomain = 2;

    private readonly int _images;
    private readonly int _batchSize;
    private readonly ulong _seed;
    private readonly TrainingAugmentation _augmentation;
    private readonly Dictionary<int, int[]> _permutations = [];

    public SampleSchedule(int images, int batchSize, ulong seed, TrainingAugmentation augmentation)
    {
        if (images <= 0) throw new ArgumentOutOfRangeException(nameof(images), images, "a schedule needs at least one image");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the batch size must be positive");
        (_images, _batchSize, _seed, _augmentation) = (images, batchSize, seed, augmentation);
    }

    /// <summary>The samples of iteration <paramref name="iteration"/>. Not thread-safe: the loader plans on one thread.</summary>
    public SamplePlan[] Batch(long iteration)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        var plans = new SamplePlan[_batchSize];
        for (int k = 0; k < _batchSize; k++)
        {
            long sample = iteration * _batchSize + k;
            int epoch = checked((int)(sample / _images)), position = (int)(sample % _images);
            var (minSize, flip) = _augmentation.Choose(new SplitMix64(Mix(Mix(Mix(_seed, ChoiceDomain), (ulong)epoch), (ulong)position)));
            plans[k] = new SamplePlan(epoch, position, Permutation(epoch)[position], minSize, flip);
        }
        return plans;
    }

    private int[] Permutation(int epoch)
    {
        if (_permutations.TryGetValue(epoch, out var cached)) return cached;
        // A batch spans at most two epochs and iterations only move forward, so older epochs are never needed again.
        foreach (int old in _permutations.Keys.Where(e => e < epoch - 1).ToList()) _permutations.Remove(old);
        var rng = new SplitMix64(Mix(Mix(_seed, ShuffleDomain), (ulong)epoch));
        var order = new int[_images];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        _permutations[epoch] = order;
        return order;
    }

    // One SplitMix64 step over the combined words: nearby inputs (position p and p + 1) give unrelated streams.
    private static ulong Mix(ulong a, ulong b) => new SplitMix64(a * 0xD1B54A32D192ED03UL ^ b).NextUInt64();
}
