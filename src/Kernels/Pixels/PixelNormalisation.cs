namespace NativeSeg.Kernels.Pixels;

/// <summary>
/// The float value of an 8-bit pixel <c>v</c> in one channel: <c>(v / Divisor · Multiplier − Mean) / Std</c>, each step
/// rounded to float32. The divisor and multiplier give a framework's pixel units (0..1 is 255 and 1) exactly as it
/// computes them: <c>v / 255</c> and <c>v · (1 / 255)</c> differ in the last bit.
/// </summary>
public readonly record struct PixelNormalisation(float Divisor, float Multiplier, float Mean, float Std)
{
    public float Apply(byte v) => (v / Divisor * Multiplier - Mean) / Std;
}
