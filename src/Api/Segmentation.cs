using System.Collections;

namespace NativeSeg.Api;

/// <summary>The instances found in one image, highest score first; the C API's <c>ns_result</c>. Independent of the model that made it.</summary>
public sealed class Segmentation(int imageWidth, int imageHeight, IReadOnlyList<Instance> instances) : IReadOnlyList<Instance>
{
    /// <summary>Width of the segmented image in pixels (and of every instance's mask).</summary>
    public int ImageWidth { get; } = imageWidth;

    /// <summary>Height of the segmented image in pixels (and of every instance's mask).</summary>
    public int ImageHeight { get; } = imageHeight;

    /// <summary>The number of instances.</summary>
    public int Count => instances.Count;

    /// <summary>The instance at <paramref name="index"/>, 0 being the highest score.</summary>
    public Instance this[int index] => instances[index];

    /// <summary>The instances, highest score first.</summary>
    public IEnumerator<Instance> GetEnumerator() => instances.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
