namespace NativeSeg.Engine.Native;

/// <summary>A library we need could not be loaded; the message lists every place that was tried.</summary>
public sealed class NativeLibraryMissingException(ProbeResult probe)
    : DllNotFoundException($"{probe.Spec.DisplayName} unavailable: {probe.DescribeMissing()} (set {LibraryProbe.PathVariable} to the folder that holds it)")
{
    public ProbeResult Probe { get; } = probe;
}
