using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// Fresh weights for the layers whose shape depends on the category count, initialised as each framework builds
/// them for a new dataset: torchvision's FastRCNNPredictor keeps nn.Linear's default (uniform ±1/√fan_in for
/// weight and bias) and MaskRCNNPredictor uses kaiming_normal_(fan_out, relu) with zero bias; detectron2 draws
/// the class scores from N(0, 0.01²), the box deltas and the mask predictor from N(0, 0.001²), biases zero.
/// </summary>
public static class ClassSpecificLayers
{
    /// <summary>CPU tensors by checkpoint key for the class logits, box deltas and mask predictor of <paramref name="heads"/>.</summary>
    public static IReadOnlyDictionary<string, Tensor> Initialise(MaskRcnnConfig heads, HeadNames names, int seed)
    {
        if (heads.BilayerMask) throw new NotSupportedException("re-initialising a bilayer mask head for new categories is not implemented yet");
        var random = new Random(seed);
        int hidden = heads.BoxHidden, maskChannels = heads.MaskChannels;
        int classes = heads.ClassLogits, deltas = heads.BoxClasses * 4, maskOut = heads.MaskPredictorChannels;
        bool pytorchDefaults = heads.Flavour.LayerInit == LayerInit.PyTorchDefaults;
        float linearBound = 1f / MathF.Sqrt(hidden);
        // kaiming_normal_ with mode fan_out on a 1×1 conv: std = √2 / √(out channels · 1 · 1).
        float maskStd = pytorchDefaults ? MathF.Sqrt(2f / maskOut) : 0.001f;
        return new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            [names.ClassScore + ".weight"] = pytorchDefaults ? Uniform(random, linearBound, classes, hidden) : Normal(random, 0.01f, classes, hidden),
            [names.ClassScore + ".bias"] = pytorchDefaults ? Uniform(random, linearBound, classes) : Zeros(classes),
            [names.BoxDeltas + ".weight"] = pytorchDefaults ? Uniform(random, linearBound, deltas, hidden) : Normal(random, 0.001f, deltas, hidden),
            [names.BoxDeltas + ".bias"] = pytorchDefaults ? Uniform(random, linearBound, deltas) : Zeros(deltas),
            [names.MaskPredictor + ".weight"] = Normal(random, maskStd, maskOut, maskChannels, 1, 1),
            [names.MaskPredictor + ".bias"] = Zeros(maskOut),
        };
    }

    private static Tensor Uniform(Random random, float bound, params int[] shape) => SeededTensors.Uniform(random, bound, shape);

    private static Tensor Normal(Random random, float std, params int[] shape) => SeededTensors.Normal(random, std, shape);

    private static Tensor Zeros(int length) => SeededTensors.Constant(0f, length);
}
