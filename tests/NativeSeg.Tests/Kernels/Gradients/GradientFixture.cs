using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Tests.Emulation;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>
/// torch 1.13 autograd references from tests/reference/make_grad_spatial_fixtures.py, run on the CPU
/// twin and on the emulated CUDA device, so both implementations are held to torch directly.
/// </summary>
internal static class GradientFixture
{
    public static readonly string[] Devices = ["cpu", "emulated"];

    public static SafetensorsFile Open() => SafetensorsFile.Open(FixturePaths.Fixture("grad_spatial.safetensors"));

    public static Device Resolve(string device) => device == "cpu" ? Device.Cpu : EmulatedDevice.Device;

    /// <summary>Every case paired with every device, for a theory's MemberData.</summary>
    public static TheoryData<string, string> OnEveryDevice(params string[] cases)
    {
        var data = new TheoryData<string, string>();
        foreach (var name in cases)
        {
            foreach (var device in Devices) data.Add(name, device);
        }
        return data;
    }

    public static Tensor Load(SafetensorsFile file, string name, Device device) => RandomTensors.OnDevice(file.Load(name), device);

    /// <summary>Asserts max|a−b| / max(1, max|expected|) ≤ tolerance, logs it, and disposes <paramref name="actual"/>.</summary>
    public static void AssertClose(ITestOutputHelper output, string name, Tensor expected, Tensor actual, double tolerance)
    {
        using var result = RandomTensors.ToCpu(actual);
        var comparison = KernelCheckRunner.Compare(name, [expected], [result], tolerance);
        output.WriteLine($"{name}: relative error {comparison.RelativeError:G3}");
        Assert.True(comparison.Passed, $"{name}: {comparison.Failure ?? "relative error"} {comparison.RelativeError} (tolerance {tolerance})");
    }
}
