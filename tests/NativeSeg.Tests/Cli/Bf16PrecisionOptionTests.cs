using NativeSeg.Cli;
using NativeSeg.Cli.Parsing;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers;
using NativeSeg.Tests.Emulation;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>`--precision bf16` is refused, exit 2 and a message saying why, where it cannot run: on a device, and on a CPU without the kernel's library.</summary>
public class Bf16PrecisionOptionTests
{
    [Fact]
    public void IsRefusedOnADevice()
    {
        using var runtime = new EmulatedRuntime();
        string? refusal = PrecisionOption.Refusal(InferencePrecision.Bf16, Device.ForRuntime(runtime));
        Assert.NotNull(refusal);
        Assert.StartsWith("error: --precision bf16 runs on the CPU only", refusal);
        Assert.Equal(Bf16PanelKernel.Unavailable is null, PrecisionOption.Refusal(InferencePrecision.Bf16, Device.Cpu) is null);
    }

    /// <summary>A copy of the CLI without libnativeseg_bf16.so beside it, run as a child process (about a second).</summary>
    [Fact]
    public async Task IsRefusedWithoutTheKernelLibrary()
    {
        using var temp = new TempFolder();
        string app = temp.File("app");
        Directory.CreateDirectory(app);
        foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            string name = Path.GetFileName(file);
            if (name != Bf16PanelKernel.LibraryName && (name.StartsWith("nativeseg", StringComparison.Ordinal) || name.EndsWith(".dll", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(app, name));
        }
        string model = DefaultModel.Find() ?? throw new FileNotFoundException("weights/default.safetensors not found from the test's folder");
        string image = temp.File("image.png");
        Assert.Equal(0, CliRun.Run("synth", "--out", temp.File("data"), "--images", "1", "--size", "64x48").Code);
        File.Copy(temp.File("data/images/000001.png"), image);
        var (code, output, error) = await CliProcess.RunAsync(app,
            ["segment", image, "--model", model, "--device", "cpu", "--precision", "bf16", "--out", temp.File("out")], null, Path.Combine(app, "nativeseg"));
        Assert.True(code == ExitCodes.Usage, $"exit {code}\n{output}\n{error}");
        Assert.StartsWith("error: --precision bf16 cannot run on this machine: ", error);
        Assert.False(Directory.Exists(temp.File("out")), "the refused run wrote its output folder");
    }
}
