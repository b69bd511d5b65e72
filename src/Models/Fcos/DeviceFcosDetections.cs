using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// One image's FCOS detections on the device (<see cref="DeviceFcosPostprocess"/>) with where each came from, as
/// <see cref="FcosDetections"/> holds them on the host.
/// </summary>
/// <param name="Locations">int64 [capacity]: each slot's location as a row of all levels' H·W maps one after another (P3 first); 0 past the count.</param>
/// <param name="Kept">int64 [1]: how many detections the cut keeps; more than the capacity when ties at the cut overflowed the slots.</param>
public sealed record DeviceFcosDetections(DeviceDetections Detections, Tensor Locations, Tensor Kept);
