using NativeSeg.Engine.Cuda;

namespace NativeSeg.Engine.Devices;

/// <summary>
/// Turns a device name from the command line or an API caller into a device: "cpu", "cuda" (= "cuda:0"),
/// "cuda:N", or "auto" (CUDA when usable, else the CPU with a one-line notice, written once to each notice writer). A CUDA device is opened
/// once per process, so every caller asking for it gets the same <see cref="Device"/>.
/// </summary>
public static class DeviceSelector
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, Device> Opened = [];

    // Writers that already carry the CPU fallback notice. The CLI and the library's default loader both
    // write to the process's stderr, so a process that selects "auto" again does not repeat the notice.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TextWriter, object> Noticed = new();

    public static Device Select(string name, TextWriter notices)
    {
        string spec = name.Trim().ToLowerInvariant();
        if (spec == "cpu") return Device.Cpu;
        if (spec == "auto")
        {
            try
            {
                return Cuda(0);
            }
            catch (CudaUnavailableException e)
            {
                if (Noticed.TryAdd(notices, new())) notices.WriteLine($"notice: no CUDA device ({e.Reason}); running on the CPU");
                return Device.Cpu;
            }
        }
        if (spec == "cuda") return Cuda(0);
        if (spec.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(spec.AsSpan(5), out int ordinal) && ordinal >= 0)
            return Cuda(ordinal);
        throw new ArgumentException($"device: expected cpu, cuda, cuda:N or auto, got '{name}'");
    }

    private static Device Cuda(int ordinal)
    {
        lock (Gate)
        {
            if (!Opened.TryGetValue(ordinal, out var device))
                Opened[ordinal] = device = Device.ForRuntime(CudaRuntime.Open(ordinal));
            return device;
        }
    }
}
