using System.CommandLine;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers;

namespace NativeSeg.Cli.Parsing;

/// <summary>`--precision fp32|fp16|bf16` of `segment` and `bench model`, and its refusal where the precision cannot run.</summary>
internal static class PrecisionOption
{
    private const string Fp16 = "fp16";
    private const string Fp32 = "fp32";
    private const string Bf16 = "bf16";

    public static Option<string> Create()
    {
        var option = new Option<string>("--precision")
        {
            Description = "fp32; fp16 on a CUDA device: weights converted to float16 once at load (after BatchNorm folding), convolutions "
                + "and fully connected layers with half inputs and outputs and float accumulation; bf16 on a CPU with AVX512_BF16: "
                + "convolution weights packed in bf16 once at load, inputs rounded to bf16, float accumulation (fp32 Winograd kept on "
                + "large maps); softmax, box decoding, NMS, RoIAlign and the other stages stay in float",
            DefaultValueFactory = _ => Fp32,
        };
        option.AcceptOnlyFromAmong(Fp32, Fp16, Bf16);
        return option;
    }

    public static InferencePrecision Parse(string value) => value switch
    {
        Fp16 => InferencePrecision.Fp16,
        Bf16 => InferencePrecision.Bf16,
        _ => InferencePrecision.Fp32,
    };

    /// <summary>The precision as the option spells it.</summary>
    public static string Name(InferencePrecision precision) => precision switch
    {
        InferencePrecision.Fp16 => Fp16,
        InferencePrecision.Bf16 => Bf16,
        _ => Fp32,
    };

    /// <summary>
    /// The usage error for <paramref name="precision"/> on <paramref name="device"/>, or null when it runs there: fp16 is a
    /// device path (the CPU has no half arithmetic that would pay, and its kernels are float32); bf16 a CPU path, which needs
    /// AVX512_BF16 and the native bf16 kernel's library.
    /// </summary>
    public static string? Refusal(InferencePrecision precision, Device device) => precision switch
    {
        InferencePrecision.Fp16 when device.IsCpu =>
            $"error: --precision fp16 runs on a CUDA device only, and this run's device is {device}; use --device cuda on a machine with a GPU, or --precision fp32",
        InferencePrecision.Bf16 when !device.IsCpu =>
            $"error: --precision bf16 runs on the CPU only, and this run's device is {device}; use --device cpu, or --precision fp16 on the device",
        InferencePrecision.Bf16 when Bf16PanelKernel.Unavailable is { } why =>
            $"error: --precision bf16 cannot run on this machine: {why}; use --precision fp32",
        _ => null,
    };
}
