using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Synthetic;
using NativeSeg.Tests.Formats;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.Training.Data;

/// <summary>A small `nativeseg synth` dataset in a temporary folder, which tests may break before opening it.</summary>
internal sealed class SyntheticTrainingData : IDisposable
{
    public const int Classes = 3;

    private readonly TempFolder _folder = new();

    public SyntheticTrainingData(int images = 6, int width = 72, int height = 52)
    {
        Options = new SyntheticOptions(images, width, height, Classes, InstancesPerImage: 3, Seed: 5, MinVisibleArea: 12);
        Directory.CreateDirectory(Path.Combine(Folder, "images"));
        var generated = new List<SyntheticImage>();
        for (int i = 0; i < images; i++)
        {
            var image = SyntheticDataset.Generate(Options, i);
            Png.Write(Path.Combine(Folder, SyntheticDataset.ImageFileName(i, "png")), new Image(width, height, 3, image.Rgb));
            generated.Add(image);
        }
        Dataset = SyntheticDataset.ToCoco(Options, generated, "png");
        Save();
    }

    public SyntheticOptions Options { get; }

    /// <summary>The annotations; change them and call <see cref="Save"/>.</summary>
    public CocoDataset Dataset { get; }

    public string Folder => _folder.Path;

    public string AnnotationsPath => Path.Combine(Folder, "annotations.json");

    public void Save()
    {
        using var stream = File.Create(AnnotationsPath);
        CocoJson.WriteDataset(stream, Dataset);
    }

    public static MaskRcnnConfig Model(DetectionFlavour flavor) => flavor == DetectionFlavour.Torchvision
        ? new() { Flavour = flavor, ClassLogits = Classes + 1, BackgroundFirst = true, CategoryIds = [0, .. Enumerable.Range(1, Classes).Select(i => (long)i)] }
        : new() { Flavour = flavor, ClassLogits = Classes + 1, BackgroundFirst = false, CategoryIds = [.. Enumerable.Range(1, Classes).Select(i => (long)i), -1] };

    /// <summary>The flavours NativeSeg trains, for theories over both.</summary>
    public static TheoryData<DetectionFlavour> TrainingFlavours => [DetectionFlavour.Torchvision, DetectionFlavour.Detectron2];

    public void Dispose() => _folder.Dispose();
}
