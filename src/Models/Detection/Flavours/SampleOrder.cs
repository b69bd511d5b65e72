namespace NativeSeg.Models.Detection.Flavours;

/// <summary>Order of the sampled proposals handed to the heads in training.</summary>
public enum SampleOrder
{
    /// <summary>Ascending box index (torchvision selects with a boolean mask).</summary>
    IndexOrder,

    /// <summary>Sampled positives then sampled negatives, each in draw order (detectron2's torch.cat).</summary>
    PositivesFirst,
}
