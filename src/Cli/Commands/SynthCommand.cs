using System.CommandLine;
using NativeSeg.Cli.Parsing;
using System.Diagnostics;
using System.Globalization;
using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Synthetic;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg synth`: a deterministic COCO-format dataset of overlapping textured shapes with amodal and occluder annotations.</summary>
internal static class SynthCommand
{
    /// <summary>
    /// The largest --size side, the same bound as a model config's min_size/max_size: each image being drawn holds
    /// 4 bytes per pixel (RGB and coverage), 256 MB at 8192x8192 for every parallel worker, and square sides past
    /// about 26,000 overflow the int-sized w·h·3 RGB array.
    /// </summary>
    private const int MaxSide = 8192;

    /// <summary>The most pixels in one dataset: a COCO-sized set (118k images at 640x480, 3.6e10 pixels) with room to spare.</summary>
    private const long MaxTotalPixels = 100_000_000_000;

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "output folder (annotations.json and images/)", Required = true }.OutputFolder();
        var images = new Option<int>("--images") { Description = "number of images", Required = true }.AtLeast(1);
        var seed = new Option<ulong>("--seed") { Description = "random seed; the same seed gives the same bytes", DefaultValueFactory = _ => 0 };
        var size = new Option<string>("--size") { Description = $"image size WxH, each side from 1 to {MaxSide}", DefaultValueFactory = _ => "640x480" }
            .Must(s => TryParseSize(s, out int w, out int h) && w <= MaxSide && h <= MaxSide, $"WxH with sides from 1 to {MaxSide} pixels, e.g. 640x480");
        var classes = new Option<int>("--classes") { Description = "number of categories", DefaultValueFactory = _ => 6 }.AtLeast(1);
        var instances = new Option<int>("--instances") { Description = "shapes drawn per image (fully hidden ones are dropped)", DefaultValueFactory = _ => 8 }.AtLeast(1);
        var format = new Option<string>("--format") { Description = "image format; jpg (quality 95, 4:4:4) is lossy, so pixels near mask edges no longer match the masks exactly", DefaultValueFactory = _ => "png" };
        format.AcceptOnlyFromAmong("png", "jpg");
        var command = new Command("synth", "Generate a synthetic COCO dataset of overlapping shapes (modal, amodal and occluder masks)")
        {
            output, images, seed, size, classes, instances, format,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            TryParseSize(parseResult.GetValue(size)!, out int width, out int height);
            int n = parseResult.GetValue(images), k = parseResult.GetValue(classes), m = parseResult.GetValue(instances);
            if ((long)n * width * height > MaxTotalPixels)
            {
                config.Error.WriteLine($"error: --images {n} at --size {width}x{height} is {(long)n * width * height} pixels; synth writes at most {MaxTotalPixels} (300 GB of RGB before compression)");
                return ExitCodes.Usage;
            }
            var options = new SyntheticOptions(n, width, height, k, m, parseResult.GetValue(seed));
            return Run(options, parseResult.GetValue(output)!, parseResult.GetValue(format)!, config.Output);
        });
        return command;
    }

    private static bool TryParseSize(string text, out int width, out int height)
    {
        width = height = 0;
        var parts = text.Split('x');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out height)
            && width > 0 && height > 0;
    }

    private static int Run(SyntheticOptions options, string folder, string extension, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        var generated = new SyntheticImage[options.Images];
        // Each image has its own random stream, so parallel generation gives the same bytes as serial.
        Parallel.For(0, options.Images, i =>
        {
            var image = SyntheticDataset.Generate(options, i);
            string path = Path.Combine(folder, SyntheticDataset.ImageFileName(i, extension));
            var rgb = new Image(options.Width, options.Height, 3, image.Rgb);
            if (extension == "jpg") Jpeg.Write(path, rgb);
            else Png.Write(path, rgb);
            generated[i] = image with { Rgb = [] };
        });
        var dataset = SyntheticDataset.ToCoco(options, generated, extension);
        AtomicFile.Write(Path.Combine(folder, "annotations.json"), stream => CocoJson.WriteDataset(stream, dataset));
        output.WriteLine($"wrote {options.Images} images, {dataset.Annotations.Count} instances, {options.Classes} categories to {folder} in {clock.Elapsed.TotalSeconds:F1} s");
        return ExitCodes.Ok;
    }
}
