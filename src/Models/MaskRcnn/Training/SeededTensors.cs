using NativeSeg.Engine.Tensors;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>CPU tensors drawn from a seeded <see cref="Random"/>, for the initialisations torch's nn.init functions make.</summary>
internal static class SeededTensors
{
    /// <summary>U(−bound, bound).</summary>
    public static Tensor Uniform(Random random, float bound, params int[] shape) =>
        Tensor.FromArray(Fill(shape, () => (float)(random.NextDouble() * 2 - 1) * bound), shape);

    /// <summary>N(0, std²), Box–Muller.</summary>
    public static Tensor Normal(Random random, float std, params int[] shape) =>
        Tensor.FromArray(Fill(shape, () => std * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))), shape);

    public static Tensor Constant(float value, params int[] shape) => Tensor.FromArray(Fill(shape, () => value), shape);

    private static float[] Fill(int[] shape, Func<float> sample)
    {
        var values = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = sample();
        return values;
    }
}
