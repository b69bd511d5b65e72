using System.CommandLine;
using NativeSeg.Engine.Devices;
using NativeSeg.Layers;

namespace NativeSeg.Cli.Parsing;

/// <summary>`--precision fp32|fp16` of `segment` and `bench model`, and its refusal where fp16 cannot run.</summary>
internal static class PrecisionOption
{
    private const string Fp16 = "fp16";
    private const string Fp32 = "fp32";

    public static Option<string> Create()
    {
        var option = new Option<string>("--precision")
        {
            Description = "fp32, or fp16 on a CUDA device: weights converted to float16 once at load (after BatchNorm folding), convolutions "
                + "and fully connected layers with half inputs and outputs and float accumulation; softmax, box decoding, NMS, RoIAlign and "
                + "the other stages stay in float",
            DefaultValueFactory = _ => Fp32,
        };
        option.AcceptOnlyFromAmong(Fp32, Fp16);
        return option;
    }

    public static InferencePrecision Parse(string value) => value == Fp16 ? InferencePrecision.Fp16 : InferencePrecision.Fp32;

    /// <summary>The precision as the option spells it.</summary>
    public static string Name(InferencePrecision precision) => precision == InferencePrecision.Fp16 ? Fp16 : Fp32;

    /// <summary>
    /// The usage error for <paramref name="precision"/> on <paramref name="device"/>, or null when it runs there: fp16 is a
    /// device path (the CPU has no half arithmetic that would pay, and its kernels are float32).
    /// </summary>
    public static string? Refusal(InferencePrecision precision, Device device) =>
        precision == InferencePrecision.Fp16 && device.IsCpu
            ? $"error: --precision fp16 runs on a CUDA device only, and this run's device is {device}; use --device cuda on a machine with a GPU, or --precision fp32"
            : null;
}
