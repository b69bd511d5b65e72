using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

/// <summary>
/// The per-level kernel arguments of RoIAlign's launches: five pointers, heights, widths and scales, in
/// that order. Unused slots repeat level 0 so every pointer argument is valid.
/// </summary>
internal unsafe struct LevelArguments
{
    /// <summary>How many kernel arguments <see cref="Stage"/> fills.</summary>
    public const int Count = 4 * RoiAlign.MaxLevels;

    // long, not nint: fixed buffers take no native ints, and device pointers are 64-bit.
    private fixed long _pointers[RoiAlign.MaxLevels];
    private fixed int _heights[RoiAlign.MaxLevels];
    private fixed int _widths[RoiAlign.MaxLevels];
    private fixed float _scales[RoiAlign.MaxLevels];

    /// <summary>Fills <paramref name="values"/> and points args[0 .. Count − 1] at it; it must outlive the launch.</summary>
    public static void Stage(LevelArguments* values, IReadOnlyList<nint> pointers, IReadOnlyList<Shape> shapes, IReadOnlyList<float> scales, void** args)
    {
        for (int l = 0; l < RoiAlign.MaxLevels; l++)
        {
            int source = l < pointers.Count ? l : 0;
            values->_pointers[l] = pointers[source];
            values->_heights[l] = shapes[source][2];
            values->_widths[l] = shapes[source][3];
            values->_scales[l] = scales[source];
            args[l] = &values->_pointers[l];
            args[RoiAlign.MaxLevels + l] = &values->_heights[l];
            args[2 * RoiAlign.MaxLevels + l] = &values->_widths[l];
            args[3 * RoiAlign.MaxLevels + l] = &values->_scales[l];
        }
    }
}
