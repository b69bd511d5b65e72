using NativeSeg.Cli.Parsing;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// Every command fed wrong options and inputs: exit code 2 before anything runs or is written, a message naming
/// the option or input at fault, and no .NET exception text.
/// </summary>
public sealed class CommandLineErrorTests : IDisposable
{
    private static readonly string[] DotNetText =
    [
        "Exception", "One or more errors occurred", "(Parameter '", "Could not find", "System.", "requires an element of type",
        "already exists", "Object reference", "   at ",
    ];

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>The placeholders the cases use: IMG an image, ANN annotations, DIR its images, FILE and FOLDER existing ones.</summary>
    private string[] Expand(string args)
    {
        if (!File.Exists(_temp.File("data/annotations.json")))
        {
            Assert.Equal(0, CliRun.Run("synth", "--out", _temp.File("data"), "--images", "1", "--size", "64x48").Code);
            File.WriteAllText(_temp.File("file.txt"), "x");
            File.Copy(_temp.File("data/images/000001.png"), _temp.File("image.bmp"));
            File.WriteAllText(_temp.File("string-polygon.json"), """
                {"images": [{"id": 1, "width": 8, "height": 8, "file_name": "a.png"}], "categories": [{"id": 1, "name": "a"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 4]]},
                                 {"id": 17, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, "4", 0, 4, 4]]}]}
                """);
        }
        return args.Split(' ').Select(a => a
            .Replace("IMG", _temp.File("data/images/000001.png"))
            .Replace("ANN", _temp.File("data/annotations.json"))
            .Replace("DIR", _temp.File("data/images"))
            .Replace("BMP", _temp.File("image.bmp"))
            .Replace("POLY", _temp.File("string-polygon.json"))
            .Replace("FILE", _temp.File("file.txt"))
            .Replace("FOLDER", _temp.Path)
            .Replace("NEW", _temp.File("new"))).ToArray();
    }

    [Theory]
    [InlineData("segment IMG --conf 0.5", "unknown option --conf")]
    [InlineData("segment IMG --out NEW --score-thresh 1.5", "--score-thresh must be a number from 0 to 1, got 1.5")]
    [InlineData("segment IMG --out NEW --score-thresh -1", "--score-thresh must be a number from 0 to 1, got -1")]
    [InlineData("segment IMG --out NEW --score-thresh nan", "--score-thresh must be a number from 0 to 1, got nan")]
    [InlineData("segment IMG --out NEW --score-thresh high", "--score-thresh must be a number, got high")]
    [InlineData("synth --out NEW --images many", "--images must be a whole number, got many")]
    [InlineData("synth --out NEW --images 99999999999", "--images must be a whole number, got 99999999999")]
    [InlineData("segment IMG --out NEW --batch 0", "--batch must be at least 1, got 0")]
    [InlineData("segment IMG --out NEW --device gpu", "--device must be auto, cpu, cuda or cuda:N, got gpu")]
    [InlineData("segment /proc/no-such-image.jpg --out NEW", "/proc/no-such-image.jpg: no such file or folder")]
    [InlineData("segment BMP --out NEW", "image.bmp: not a supported image")]
    [InlineData("segment IMG --out FILE", "--out must be a folder, not an existing file")]
    [InlineData("segment IMG --out NEW --json FOLDER", "--json must be a file path")]
    [InlineData("segment IMG --out NEW --json FILE/results.json", "--json must be a file path")]
    [InlineData("segment IMG --out NEW --model /proc/no-such-model.safetensors", "--model must be an existing .safetensors model file")]
    [InlineData("segment IMG --out NEW --annotations /proc/no-such.json", "--annotations must be an existing file")]
    [InlineData("segment IMG --out NEW --device cpu --precision fp16", "--precision fp16 runs on a CUDA device only, and this run's device is cpu")]
    [InlineData("segment IMG --out NEW --precision fp8", "fp8")]
    [InlineData("segment - - --out NEW", "- (standard input) can be given only once")]
    [InlineData("segment --out NEW", "inputs")]
    [InlineData("eval --annotations /proc/no-such.json --results ANN", "--annotations must be an existing file")]
    [InlineData("eval --annotations ANN --results /proc/no-such.json", "--results must be an existing file")]
    [InlineData("eval --annotations ANN --model weights/default.safetensors --images /proc/no-such-folder", "--images must be an existing folder")]
    [InlineData("eval --annotations ANN --results ANN --iou-type mask", "mask")]
    [InlineData("eval --annotations POLY --results ANN", "string-polygon.json: annotations[1]: 'polygon' is string, not a number")]
    [InlineData("eval --annotations ANN", "give either --results or --model")]
    [InlineData("synth --out NEW --images 0", "--images must be at least 1, got 0")]
    [InlineData("synth --out NEW --images 1 --size 100000x100000", "--size must be WxH")]
    [InlineData("synth --out FILE --images 1", "--out must be a folder, not an existing file")]
    [InlineData("synth --out NEW --images 1 --classes -3", "--classes must be at least 1, got -3")]
    [InlineData("convert /proc/no-such.pth", "/proc/no-such.pth: no such file")]
    [InlineData("convert FILE --arch maskrcnn_resnet50_fpn_torchvision --config /proc/no-such.json", "--config must be an existing file")]
    [InlineData("bench model --image /proc/no-such.jpg", "--image must be an existing file")]
    [InlineData("bench model --image IMG --runs 0", "--runs must be at least 1, got 0")]
    [InlineData("bench model --image IMG --score-thresh 2", "--score-thresh must be a number from 0 to 1, got 2")]
    [InlineData("bench model --image IMG --device cpu --precision fp16", "--precision fp16 runs on a CUDA device only, and this run's device is cpu")]
    [InlineData("bench kernels --repeats 0", "--repeats must be at least 1, got 0")]
    [InlineData("bench kernels --threads 0", "--threads must be at least 1, got 0")]
    [InlineData("bench train --model weights/default.safetensors --annotations /proc/no-such.json --images DIR", "--annotations must be an existing file")]
    [InlineData("bench train --model weights/default.safetensors --annotations ANN --images DIR --batch 0", "--batch must be at least 1, got 0")]
    [InlineData("train --model weights/default.safetensors --annotations ANN --images /proc/none --out NEW --iters 1 --batch 1 --lr 0.01", "--images must be an existing folder")]
    [InlineData("train --model weights/default.safetensors --annotations ANN --images DIR --out NEW --iters 0 --batch 1 --lr 0.01", "--iters must be at least 1, got 0")]
    [InlineData("train --model weights/default.safetensors --annotations ANN --images DIR --out NEW --iters 1 --batch 1 --lr nan", "--lr must be a positive number")]
    [InlineData("train --model weights/default.safetensors --annotations ANN --images DIR --out NEW --iters 1 --batch 1 --lr 0.01 --momentum nan", "--momentum must be in [0, 1)")]
    [InlineData("train --model weights/default.safetensors --annotations ANN --images DIR --out NEW --iters 1 --batch 1 --lr 0.01 --threads 0", "--threads must be at least 1, got 0")]
    [InlineData("kernels compile --arch foo", "--arch must be sm_NN or compute_NN")]
    [InlineData("kernels verify --device tpu", "--device must be auto, cpu, cuda or cuda:N, got tpu")]
    [InlineData("info --verbose", "--verbose")]
    public void IsAUsageErrorNamingTheInput(string args, string expected)
    {
        var (code, output, error) = CliRun.Run(Expand(args));

        Assert.True(code == ExitCodes.Usage, $"exit {code}\n{output}\n{error}");
        Assert.Contains(expected, error);
        Assert.StartsWith("error: ", error);
        foreach (string text in DotNetText) Assert.DoesNotContain(text, error);
        Assert.False(Directory.Exists(_temp.File("new")), "a failed command line wrote its output folder");
    }

    [Fact]
    public void AnOptionLikeFileNameIsAnInputAfterADoubleDash()
    {
        var (code, _, error) = CliRun.Run("segment", "--out", _temp.File("new"), "--", "-no-such.jpg");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("-no-such.jpg: no such file or folder", error);
        Assert.DoesNotContain("unknown option", error);
    }

    [Fact]
    public void UnhandledFailuresShowTheirCauseNotTheWrapper()
    {
        var aggregate = new AggregateException(new AggregateException(new InvalidDataException("tile 3 is truncated")));
        Assert.Equal("tile 3 is truncated", ErrorText.Of(aggregate));
        Assert.Equal("a.bin: no such file", ErrorText.Of(new FileNotFoundException("Could not find file '/x/a.bin'.", "a.bin")));
        Assert.Equal("count must be positive", ErrorText.Of(new ArgumentOutOfRangeException("count", "count must be positive")));
        Assert.Equal("first; second", ErrorText.Of(new AggregateException(new IOException("first"), new IOException("second"))));
    }

    [Fact]
    public void RootHelpDocumentsTheExitCodes()
    {
        var (code, output, _) = CliRun.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("0 success, 1 a run that failed, 2 a wrong command line or input (nothing run), 130 interrupted", output);
    }
}
