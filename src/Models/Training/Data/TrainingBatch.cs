using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn.Training;

namespace NativeSeg.Models.Training.Data;

/// <summary>One image of a batch: its ground truth in the resized (and flipped) frame and where it came from.</summary>
/// <param name="Height">Resized height before padding (the image_sizes entry).</param>
public sealed record TrainingSample(long ImageId, string FileName, int Height, int Width, GroundTruth Truth, SamplePlan Plan);

/// <summary>
/// A training batch: <see cref="Images"/> [B, 3, PH, PW] float32 on the CPU (owned), each image normalised and then
/// zero-padded at the bottom and right to the batch's size, a multiple of the size divisibility.
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    private TrainingBatch(long iteration, Tensor images, IReadOnlyList<TrainingSample> samples) =>
        (Iteration, Images, Samples) = (iteration, images, samples);

    public long Iteration { get; }

    public Tensor Images { get; }

    public IReadOnlyList<TrainingSample> Samples { get; }

    public void Dispose() => Images.Dispose();

    /// <summary>Stacks the individually padded inputs; the largest already is a multiple of the divisibility.</summary>
    internal static TrainingBatch Assemble(long iteration, IReadOnlyList<AugmentedSample> augmented, IReadOnlyList<(long Id, string FileName, SamplePlan Plan)> sources)
    {
        int ph = augmented.Max(s => s.Input.PaddedHeight), pw = augmented.Max(s => s.Input.PaddedWidth);
        var images = Tensor.Zeros(new Shape(augmented.Count, 3, ph, pw), DType.Float32, Device.Cpu);
        var dst = images.AsSpan<float>();
        var samples = new TrainingSample[augmented.Count];
        for (int b = 0; b < augmented.Count; b++)
        {
            var input = augmented[b].Input;
            var src = input.Input.AsSpan<float>();
            int sh = input.PaddedHeight, sw = input.PaddedWidth;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < input.Height; y++)
                    src.Slice((c * sh + y) * sw, input.Width).CopyTo(dst.Slice(((b * 3 + c) * ph + y) * pw, input.Width));
            samples[b] = new TrainingSample(sources[b].Id, sources[b].FileName, input.Height, input.Width, augmented[b].Truth, sources[b].Plan);
        }
        return new TrainingBatch(iteration, images, samples);
    }
}
