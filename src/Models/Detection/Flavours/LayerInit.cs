namespace NativeSeg.Models.Detection.Flavours;

/// <summary>How a framework initialises the layers it creates for a new dataset.</summary>
public enum LayerInit
{
    /// <summary>
    /// PyTorch's module defaults as torchvision's predictors keep them: nn.Linear uniform ±1/√fan_in for weight and
    /// bias, the mask predictor kaiming_normal_(fan_out, relu) with zero bias.
    /// </summary>
    PyTorchDefaults,

    /// <summary>detectron2's: class scores N(0, 0.01²), box deltas and the mask predictor N(0, 0.001²), biases zero.</summary>
    Detectron2Normal,
}
