using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Conversion;

namespace NativeSeg.Models.Bpr.Training;

/// <summary>
/// The weights a BPR network starts from when trained without ImageNet weights, drawn as mmseg 0.7 initialises it
/// with <c>pretrained=None</c>: every backbone conv (conv_mask included) and the head's ConvModule
/// kaiming_normal_(fan_out, relu), every BatchNorm weight 1, bias 0, running mean 0 and variance 1, and
/// <c>conv_seg</c> N(0, 0.01²) with a zero bias. Seeded: the same seed gives the same file.
/// </summary>
public static class BprInitialWeights
{
    private const string Classifier = "decode_head.conv_seg";
    private const float ClassifierStd = 0.01f;

    /// <summary>Writes a float32 INIT file for `nativeseg train`; returns how many tensors it holds.</summary>
    public static int Write(string path, BprConfig config, int seed)
    {
        using var scope = TensorScope.Begin();
        var tensors = Draw(config, seed);
        var metadata = new Dictionary<string, string>
        {
            ["architecture"] = config.Architecture,
            ["source_format"] = "nativeseg init",
        };
        SafetensorsWriter.Write(path, tensors, metadata);
        return tensors.Count;
    }

    /// <summary>CPU tensors for every float key of the architecture's key list, drawn in the list's order from one generator.</summary>
    public static List<KeyValuePair<string, Tensor>> Draw(BprConfig config, int seed)
    {
        var random = new Random(seed);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (key, shape) in KeyListArchitecture.Read(config.KeyList))
        {
            int dot = key.LastIndexOf('.');
            string module = key[..dot], field = key[(dot + 1)..];
            if (field == "num_batches_tracked") continue;
            var values = new float[shape.Aggregate(1, (a, d) => a * d)];
            if (shape.Length == 4)
            {
                float std = module == Classifier ? ClassifierStd : MathF.Sqrt(2f / (shape[0] * shape[2] * shape[3]));
                for (int i = 0; i < values.Length; i++) values[i] = std * StandardNormal(random);
            }
            else if (field is "weight" or "running_var" && module != Classifier)
            {
                Array.Fill(values, 1f);
            }
            tensors.Add(new(key, Tensor.FromArray(values, shape)));
        }
        return tensors;
    }

    /// <summary>Box–Muller from two uniform draws.</summary>
    private static float StandardNormal(Random random)
    {
        double u = 1 - random.NextDouble(), v = random.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
    }
}
