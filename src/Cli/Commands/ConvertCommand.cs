using System.CommandLine;
using NativeSeg.Engine.Formats;
using NativeSeg.Models.Conversion;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg convert`: a PyTorch / detectron2 / mmcv checkpoint to one checked .safetensors file.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("checkpoint") { Description = "input checkpoint (.pth zip, detectron2 .pkl, mmcv .pth)" };
        var output = new Option<string>("--out") { Description = "output .safetensors file", Required = true };
        var arch = new Option<string>("--arch")
        {
            Description = "architecture: " + string.Join(", ", Architectures.All.Select(a => a.Name)),
            Required = true,
        };
        var fp16 = new Option<bool>("--fp16") { Description = "store float32 weights as float16" };
        var command = new Command("convert", "Convert a checkpoint to .safetensors, checking every key and shape against the architecture")
        {
            input, output, arch, fp16,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            IArchitecture architecture;
            try
            {
                architecture = Architectures.Find(parseResult.GetValue(arch)!);
            }
            catch (ArgumentException e)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            string source = parseResult.GetValue(input)!, target = parseResult.GetValue(output)!;
            try
            {
                WeightsConverter.Convert(source, target, architecture, parseResult.GetValue(fp16));
            }
            catch (Exception e) when (e is FileFormatException or ArchitectureMismatchException or FileNotFoundException)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            config.Output.WriteLine($"wrote {target} ({architecture.Name}, {architecture.ExpectedKeys.Count} tensors)");
            return 0;
        });
        return command;
    }
}
