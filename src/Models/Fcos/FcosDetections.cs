using NativeSeg.Models.Detection;

namespace NativeSeg.Models.Fcos;

/// <summary>An image's FCOS detections with, per detection, its pyramid level index (0 = P3) and location (y·W + x on that level).</summary>
public sealed record FcosDetections(Detections Detections, int[] Levels, int[] Locations);
