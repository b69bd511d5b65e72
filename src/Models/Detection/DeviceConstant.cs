using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Models.Detection;

/// <summary>Shape-only tensors (anchors, level ids, location centres) put on the device for a <see cref="DeviceShapeCache{TValue}"/> to own.</summary>
public static class DeviceConstant
{
    /// <summary>The host tensor's copy on the device, out of every scope: the cache entry that holds it disposes it.</summary>
    public static Tensor Upload(Tensor host, Device device)
    {
        using (host) return TensorScope.Release(host.To(device));
    }
}
