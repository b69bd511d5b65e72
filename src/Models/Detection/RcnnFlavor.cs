namespace NativeSeg.Models.Detection;

/// <summary>Whose inference conventions a model follows; the three differ in many small numerical details (spec §2.4, §4).</summary>
public enum RcnnFlavor
{
    Detectron2,
    Torchvision,

    /// <summary>maskrcnn-benchmark, which Mask Scoring R-CNN forks: "+1" box arithmetic, sigmoid before the RPN top-k.</summary>
    MaskRcnnBenchmark,
}
