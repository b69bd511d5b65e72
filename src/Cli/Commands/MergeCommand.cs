using System.CommandLine;
using System.Text.Json;
using NativeSeg.Cli.Inputs;
using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Formats;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg merge`: the JSON Lines of a sharded `segment` run (one file per shard) as one COCO results file,
/// after checking that no image was segmented twice and, given the run's inputs, that none is missing.
/// </summary>
internal static class MergeCommand
{
    private const int Shown = 20;

    public static Command Create()
    {
        var shards = new Argument<string[]>("shards") { Description = "the .jsonl results of every shard (segment --shard)", Arity = ArgumentArity.OneOrMore };
        shards.Validators.Add(result =>
        {
            foreach (string shard in result.Tokens.Select(t => t.Value))
                if (!File.Exists(shard)) result.AddError($"{shard}: no such file");
        });
        var json = new Option<string>("--json") { Description = "the merged COCO results file (a JSON array), written atomically", Required = true }.OutputFile();
        var inputs = new Option<string[]>("--inputs")
        {
            Description = "the images and folders the shards were given (segment's inputs), to report images no shard holds",
            AllowMultipleArgumentsPerToken = true,
        };
        inputs.Validators.Add(SegmentInputs.Validate);
        var list = new Option<string?>("--list") { Description = "the --list file the shards were given, to report images no shard holds" }.ExistingFile();
        var annotations = new Option<string?>("--annotations") { Description = "with --images: the annotation file whose images the shards segmented" }.ExistingFile();
        var images = new Option<string?>("--images") { Description = "with --annotations: the folder of its images, as given to segment" }.ExistingFolder();
        var command = new Command("merge", "merges the JSON Lines results of segment's shards into one COCO results file, checking for duplicated and missing images")
        {
            shards, json, inputs, list, annotations, images,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            string[] given = parseResult.GetValue(inputs) ?? [];
            string? listPath = parseResult.GetValue(list), imageDir = parseResult.GetValue(images), annotationsPath = parseResult.GetValue(annotations);
            InputSource? source = null;
            if (given.Length > 0 || listPath is not null || imageDir is not null || annotationsPath is not null)
            {
                source = InputSource.Create(given, listPath, annotationsPath, imageDir, config.Error);
                if (source is null) return ExitCodes.Usage;
            }
            return Run(parseResult.GetValue(shards)!, parseResult.GetValue(json)!, source, config.Output, config.Error);
        });
        return command;
    }

    private static int Run(string[] shards, string jsonPath, InputSource? source, TextWriter output, TextWriter error)
    {
        // Where each image was first seen, by a digest of its key: a fixed size per image, whatever its path.
        var seen = new Dictionary<UInt128, (int Shard, int Line)>();
        int duplicates = 0;
        long records = 0;
        try
        {
            for (int s = 0; s < shards.Length; s++)
            {
                string shard = shards[s];
                foreach (var entry in ResultLines.Read(shard, line => error.WriteLine(
                    $"warning: {shard}: line {line}, the last, is cut off (a task killed and not resumed); its image counts as missing")))
                {
                    records += entry.Results.GetArrayLength();
                    var digest = ResultLines.Digest(entry.Input);
                    if (seen.TryAdd(digest, (s, entry.Line))) continue;
                    var first = seen[digest];
                    if (duplicates++ < Shown)
                        error.WriteLine($"error: {entry.Input} appears twice: {shards[first.Shard]} line {first.Line} and {shard} line {entry.Line}");
                }
            }
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        if (duplicates > 0)
        {
            error.WriteLine($"error: {duplicates} images appear more than once across the shards (run with different --shard values over the same inputs?); nothing written");
            return ExitCodes.Usage;
        }
        long missing = 0, expected = 0;
        if (source is null) output.WriteLine("no inputs given (--inputs, --list, or --annotations with --images): images that no shard holds are not looked for");
        else
        {
            foreach (var input in source.Enumerate(notes: null))
            {
                expected++;
                if (seen.ContainsKey(ResultLines.Digest(input.Key))) continue;
                if (missing++ < Shown) error.WriteLine($"error: {input.Path} ({input.Origin}) is in no shard");
            }
            if (missing > Shown) error.WriteLine($"error: ... and {missing - Shown} more images in no shard");
        }
        AtomicFile.Write(jsonPath, stream =>
        {
            using var json = new Utf8JsonWriter(stream);
            json.WriteStartArray();
            foreach (string shard in shards)
                foreach (var entry in ResultLines.Read(shard, _ => { }))
                    foreach (var record in entry.Results.EnumerateArray()) record.WriteTo(json);
            json.WriteEndArray();
        });
        string of = source is null ? "" : $" of {expected}";
        output.WriteLine($"{seen.Count} images{of}, {records} results from {shards.Length} shards -> {jsonPath}");
        if (missing == 0) return ExitCodes.Ok;
        error.WriteLine($"error: {missing} of the {expected} inputs are in no shard; {jsonPath} holds the others (resume the shards that lack them with segment --resume)");
        return ExitCodes.Failure;
    }
}
