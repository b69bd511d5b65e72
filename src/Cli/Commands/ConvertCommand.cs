using System.CommandLine;
using NativeSeg.Cli.Parsing;
using System.Text.Json;
using System.Text.Json.Nodes;
using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Json;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Registry;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg convert`: a PyTorch / detectron2 / mmcv checkpoint to one checked .safetensors file.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("checkpoint") { Description = "input checkpoint (.pth zip, detectron2 .pkl, mmcv .pth)" };
        input.Validators.Add(r =>
        {
            if (r.Tokens is [{ Value: var path }] && !File.Exists(path)) r.AddError($"{path}: no such file");
        });
        var output = new Option<string?>("--out", "-o") { Description = "output .safetensors file (default: the checkpoint's name with .safetensors)" }.OutputFile();
        var arch = new Option<string?>("--arch")
        {
            Description = "architecture (default: recognised from the checkpoint's keys): " + string.Join(", ", Architectures.All.Select(a => a.Name)),
        };
        var fp16 = new Option<bool>("--fp16") { Description = "store float32 weights as float16" };
        var settings = new Option<string?>("--config")
        {
            Description = "Mask R-CNN only: JSON file of the model's own settings (classes, channels, input size), "
                + "e.g. the config.json of build/train-bilayer-head.py; the key check follows it and the file carries it",
        }.ExistingFile();
        var command = new Command("convert", "Convert a checkpoint to .safetensors, checking every key and shape against the architecture")
        {
            input, output, arch, fp16, settings,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            IArchitecture? architecture = null;
            string source = parseResult.GetValue(input)!;
            string target = parseResult.GetValue(output) ?? Path.ChangeExtension(source, ".safetensors");
            try
            {
                // Checked first: the pickle reader's complaint about such a file ("unknown opcode") hides the real mistake.
                if (SafetensorsFile.HasSafetensorsHeader(source)) throw new ArgumentException(AlreadySafetensors(source));
                if (Path.GetFullPath(target) == Path.GetFullPath(source))
                    throw new ArgumentException($"output {target} would overwrite the checkpoint; choose another with -o");
                if (parseResult.GetValue(arch) is { } name) architecture = Architectures.Find(name);
                if (parseResult.GetValue(settings) is { } settingsFile)
                {
                    architecture = architecture is null
                        ? throw new ArgumentException("--config needs --arch: the settings belong to one architecture")
                        : MaskRcnnArchitecture.Configured(architecture.Name, ReadSettings(settingsFile));
                }
            }
            catch (Exception e) when (e is ArgumentException or IOException or JsonException or FormatException or InvalidOperationException)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
            try
            {
                architecture = WeightsConverter.Convert(source, target, architecture, parseResult.GetValue(fp16));
            }
            catch (Exception e) when (e is FileFormatException or ArchitectureMismatchException or FileNotFoundException)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failure;
            }
            config.Output.WriteLine($"wrote {target} ({architecture.Name}, {architecture.ExpectedKeys.Count} tensors)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string AlreadySafetensors(string source)
    {
        string? name = null;
        try
        {
            using var file = SafetensorsFile.Open(source);
            name = file.Metadata.GetValueOrDefault("architecture");
        }
        catch (FileFormatException)
        {
            // A damaged header still shows what kind of file this is; the architecture is a bonus.
        }
        string architecture = name is null ? "" : $" ({name})";
        return $"{source} is already a safetensors file{architecture}; convert reads PyTorch, detectron2 and mmcv checkpoints, "
            + "and segment, train and eval take this file as it is";
    }

    internal static JsonObject ReadSettings(string file) =>
        StrictJson.ParseObject(File.ReadAllText(file), file) ?? throw new FormatException($"{file}: expected a JSON object, found null");
}
