namespace NativeSeg.Kernels.Convolution;

/// <summary>A (height, width) pair; an int converts to the square pair, as torch's int arguments do.</summary>
public readonly record struct Pair2(int H, int W)
{
    public static implicit operator Pair2(int value) => new(value, value);

    public override string ToString() => H == W ? H.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"({H}, {W})";
}

/// <summary>Hyper-parameters of <see cref="Conv2d.Forward(NativeSeg.Engine.Tensors.Tensor, NativeSeg.Engine.Tensors.Tensor, NativeSeg.Engine.Tensors.Tensor?, Conv2dParams)"/>, with torch's defaults.</summary>
public sealed record Conv2dParams
{
    public static Conv2dParams Default { get; } = new();

    public Pair2 Stride { get; init; } = 1;

    public Pair2 Padding { get; init; } = 0;

    public Pair2 Dilation { get; init; } = 1;

    public int Groups { get; init; } = 1;

    /// <summary>Applies ReLU after the bias, in the same pass over the output.</summary>
    public bool FuseRelu { get; init; }
}

/// <summary>Hyper-parameters of <see cref="ConvTranspose2d.Forward"/>, with torch's defaults.</summary>
public sealed record ConvTranspose2dParams
{
    public static ConvTranspose2dParams Default { get; } = new();

    public Pair2 Stride { get; init; } = 1;

    public Pair2 Padding { get; init; } = 0;

    /// <summary>Extra rows/columns on the bottom/right of the output (must be less than stride or dilation).</summary>
    public Pair2 OutputPadding { get; init; } = 0;

    public Pair2 Dilation { get; init; } = 1;

    public int Groups { get; init; } = 1;

    public bool FuseRelu { get; init; }
}
