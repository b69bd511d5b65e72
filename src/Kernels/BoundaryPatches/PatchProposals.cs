using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoundaryPatches;

/// <summary>
/// The patches kept around a set of instance masks: <see cref="Patches"/> int32 [K, 3] (instance, x1, y1) on the
/// masks' device, grouped by instance in NMS order; instance i owns rows <c>First[i]</c> .. <c>First[i + 1] − 1</c>.
/// Each patch covers x1 .. x1 + <see cref="Size"/> − 1 and y1 .. y1 + <see cref="Size"/> − 1.
/// </summary>
public sealed class PatchProposals(Tensor patches, int[] first, int size) : IDisposable
{
    public Tensor Patches { get; } = patches;

    public IReadOnlyList<int> First { get; } = first;

    public int Size { get; } = size;

    public int Count => First[^1];

    /// <summary>The (instance, x1, y1) of every patch, on the host.</summary>
    public int[] ToArray() => Patches.ToArray<int>();

    public void Dispose() => Patches.Dispose();
}
