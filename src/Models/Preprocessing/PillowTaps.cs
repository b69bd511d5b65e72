using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// Pillow's bilinear weights (<see cref="PillowResize.Taps"/>) on one device, per axis resize (input size → output
/// size): computed and uploaded on the first image that needs them and reused after, for the <see cref="Capacity"/>
/// most recently used. COCO's images share few sizes (most are 640 wide, resized to 1067 or so), so a model that keeps
/// one of these uploads the weights about once per size, not once per image. Not thread-safe, like the model's forward.
/// </summary>
public sealed class PillowTaps(Device device, int capacity = PillowTaps.DefaultCapacity) : IDisposable
{
    /// <summary>Room for the two axes of a few batches of differently shaped images; an entry is a few kilobytes.</summary>
    public const int DefaultCapacity = 32;

    private readonly DeviceShapeCache<Tensor> _axes = new(capacity);

    public Device Device { get; } = device;

    public int Capacity => _axes.Capacity;

    /// <summary>The packed taps of an axis resized from <paramref name="inSize"/> to <paramref name="outSize"/>, owned by this cache.</summary>
    public Tensor For(int inSize, int outSize) => _axes.Get($"{inSize}->{outSize}", () =>
    {
        var taps = PillowResize.Taps(inSize, outSize);
        return DeviceConstant.Upload(Tensor.FromArray(taps, taps.Length), Device);
    });

    public void Dispose() => _axes.Dispose();
}
