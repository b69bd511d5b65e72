using System.CommandLine;
using System.Text.Json;
using NativeSeg.Cli.Parsing;
using NativeSeg.Models.Bpr;
using NativeSeg.Models.Bpr.Training;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.MaskRcnn.Training;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg init`: a from-scratch INIT file for `nativeseg train --model`, drawn as torchvision initialises a Mask R-CNN
/// or as mmseg initialises a BPR network.
/// </summary>
internal static class InitCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch")
        {
            Description = "architecture: " + string.Join(", ", MaskRcnnArchitectures.Names.Concat(BprConfig.All.Select(c => c.Architecture))),
            Required = true,
        };
        var settings = new Option<string?>("--config")
        {
            Description = "JSON file of the model's settings (classes, channels, input size; \"norm\": \"BN\" and "
                + "\"trainable_backbone_layers\": 5 to train everything with BatchNorm in training mode), carried by the file; "
                + "required for a Mask R-CNN, not taken by BPR",
        }.ExistingFile();
        var output = new Option<string>("--out", "-o") { Description = "output .safetensors file", Required = true }.OutputFile();
        var seed = new Option<int>("--seed") { Description = "seeds the initial weights", DefaultValueFactory = _ => 0 }.Must(s => s >= 0, "not negative");
        var command = new Command("init", "Write freshly initialised weights (torchvision's rules for a Mask R-CNN, mmseg's for BPR) for training from scratch")
        {
            arch, settings, output, seed,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            string target = parseResult.GetValue(output)!;
            try
            {
                string name = parseResult.GetValue(arch)!;
                string? settingsPath = parseResult.GetValue(settings);
                if (BprConfig.All.FirstOrDefault(c => c.Architecture == name) is { } bpr)
                {
                    if (settingsPath is not null) throw new ArgumentException($"--config does not apply to {name}: a BPR network's settings are fixed by its architecture");
                    int count = BprInitialWeights.Write(target, bpr, parseResult.GetValue(seed));
                    config.Output.WriteLine($"wrote {target} ({name}, {count} tensors, initialised from scratch)");
                    return ExitCodes.Ok;
                }
                if (settingsPath is null) throw new ArgumentException($"{name} needs --config (the model's settings)");
                var settingsJson = ConvertCommand.ReadSettings(settingsPath);
                var architecture = ScratchWeights.Write(target, name, settingsJson, parseResult.GetValue(seed));
                config.Output.WriteLine($"wrote {target} ({architecture.Name}, {architecture.ExpectedKeys.Count} tensors, initialised from scratch)");
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ArgumentException or IOException or JsonException or FormatException or NotSupportedException or UnauthorizedAccessException)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }
}
