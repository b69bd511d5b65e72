using NativeSeg.Engine.Cuda;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Native;

namespace NativeSeg.Tests.Cuda;

[Collection(EnvironmentCollection.Name)]
public sealed class DeviceSelectorTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void CpuIsTheCpuDeviceWithoutNotice()
    {
        var notices = new StringWriter();
        Assert.Same(Device.Cpu, DeviceSelector.Select(" CPU ", notices));
        Assert.Empty(notices.ToString());
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    public void UnknownNamesAreRejectedWithTheName(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceSelector.Select(name, TextWriter.Null));
        Assert.Contains($"'{name}'", e.Message);
    }

    [NoCudaDriverFact]
    public void CudaWithoutDriverNamesTheLibraryAndTheFolders()
    {
        using var env = new ScopedEnvironment(LibraryProbe.PathVariable, _folder.Path);
        var e = Assert.Throws<CudaUnavailableException>(() => DeviceSelector.Select("cuda", TextWriter.Null));
        Assert.Contains("libcuda.so.1 not found in", e.Message);
        Assert.Contains(_folder.Path, e.Message);
        Assert.Contains("/usr/local/cuda/lib64", e.Message);
        Assert.Contains("default loader search", e.Message);
        Assert.Throws<CudaUnavailableException>(() => DeviceSelector.Select("cuda:1", TextWriter.Null));
    }

    [NoCudaDriverFact]
    public void AutoFallsBackToTheCpuWithOneNoticeLine()
    {
        var notices = new StringWriter();
        Assert.Same(Device.Cpu, DeviceSelector.Select("auto", notices));
        string[] lines = notices.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("notice: no CUDA device (libcuda.so.1 not found in ", line);
        Assert.EndsWith("); running on the CPU", line);
        Assert.DoesNotContain("LD_DEBUG", line);
        Assert.Contains(LibraryProbe.PathVariable, line);

        Assert.Same(Device.Cpu, DeviceSelector.Select("auto", notices));
        Assert.Equal(notices.ToString(), line + Environment.NewLine);
    }
}
