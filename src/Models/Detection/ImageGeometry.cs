namespace NativeSeg.Models.Detection;

/// <summary>Where one image sits in a batch: its unpadded size there and its size as the user gave it.</summary>
public readonly record struct ImageGeometry(int Height, int Width, int OriginalHeight, int OriginalWidth);
