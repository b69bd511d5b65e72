using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Models.Training.Data;

/// <summary>
/// A COCO instance-segmentation training set, checked completely when opened so that a broken file or a
/// missing image stops training before the first iteration rather than hours into it.
/// </summary>
public sealed class CocoTrainingSet
{
    private const int MissingNamesShown = 5;

    private readonly IReadOnlyList<CocoAnnotation>[] _annotations;

    private CocoTrainingSet(string annotationsPath, string imagesDirectory, List<CocoImage> images,
        List<CocoCategory> categories, IReadOnlyList<CocoAnnotation>[] annotations, int skipped)
    {
        AnnotationsPath = annotationsPath;
        ImagesDirectory = imagesDirectory;
        Images = images;
        Categories = categories;
        _annotations = annotations;
        SkippedImages = skipped;
    }

    public string AnnotationsPath { get; }

    public string ImagesDirectory { get; }

    /// <summary>The images training uses, in the file's order.</summary>
    public IReadOnlyList<CocoImage> Images { get; }

    /// <summary>Every category of the file, sorted by id.</summary>
    public IReadOnlyList<CocoCategory> Categories { get; }

    /// <summary>Images left out because they have no non-crowd annotation.</summary>
    public int SkippedImages { get; }

    /// <summary>All annotations of image <paramref name="index"/> (of <see cref="Images"/>), crowd regions included.</summary>
    public IReadOnlyList<CocoAnnotation> AnnotationsOf(int index) => _annotations[index];

    public string ImagePath(int index) => Path.Combine(ImagesDirectory, Images[index].FileName);

    public static CocoTrainingSet Open(string annotationsPath, string imagesDirectory)
    {
        if (!File.Exists(annotationsPath)) throw new TrainingDataException($"annotation file {annotationsPath} not found");
        if (!Directory.Exists(imagesDirectory)) throw new TrainingDataException($"image folder {imagesDirectory} not found");
        CocoDataset dataset;
        try
        {
            dataset = CocoJson.ReadDataset(annotationsPath);
        }
        catch (CocoFormatException e)
        {
            throw new TrainingDataException($"annotation file {e.Message}", e);
        }

        var categories = dataset.Categories.OrderBy(c => c.Id).ToList();
        for (int i = 1; i < categories.Count; i++)
            if (categories[i].Id == categories[i - 1].Id)
                throw new TrainingDataException($"{annotationsPath}: category id {categories[i].Id} is used twice ('{categories[i - 1].Name}' and '{categories[i].Name}')");
        if (categories.Count == 0) throw new TrainingDataException($"{annotationsPath}: no categories; training needs at least one");

        var imageIndex = new Dictionary<long, int>(dataset.Images.Count);
        for (int i = 0; i < dataset.Images.Count; i++)
        {
            var image = dataset.Images[i];
            if (!imageIndex.TryAdd(image.Id, i)) throw new TrainingDataException($"{annotationsPath}: image id {image.Id} is used twice");
            if (image.FileName.Length == 0) throw new TrainingDataException($"{annotationsPath}: image {image.Id} has no file_name");
            if (image.Width <= 0 || image.Height <= 0)
                throw new TrainingDataException($"{annotationsPath}: image {image.Id} ({image.FileName}) has size {image.Width}x{image.Height}");
        }

        var categoryIds = categories.Select(c => c.Id).ToHashSet();
        var perImage = new List<CocoAnnotation>[dataset.Images.Count];
        for (int i = 0; i < perImage.Length; i++) perImage[i] = [];
        foreach (var a in dataset.Annotations)
        {
            if (!imageIndex.TryGetValue(a.ImageId, out int index))
                throw new TrainingDataException($"{annotationsPath}: annotation {a.Id} refers to image id {a.ImageId}, which is not among the images");
            if (!categoryIds.Contains(a.CategoryId))
                throw new TrainingDataException($"{annotationsPath}: annotation {a.Id} (image {a.ImageId}) has category id {a.CategoryId}, which is not among the categories");
            string? problem = AnnotationCheck.Problem(a, dataset.Images[index]);
            if (problem is not null) throw new TrainingDataException($"{annotationsPath}: annotation {a.Id} (image {a.ImageId}): {problem}");
            perImage[index].Add(a);
        }

        var missing = dataset.Images.Where(image => !File.Exists(Path.Combine(imagesDirectory, image.FileName))).Select(image => image.FileName).ToList();
        if (missing.Count > 0)
            throw new TrainingDataException($"{missing.Count} of the {dataset.Images.Count} images in {annotationsPath} are missing from {imagesDirectory}: "
                + string.Join(", ", missing.Take(MissingNamesShown)) + (missing.Count > MissingNamesShown ? ", …" : ""));

        // detectron2's rule (DATALOADER.FILTER_EMPTY_ANNOTATIONS, filter_images_with_only_crowd_annotations): an image
        // stays when it has at least one non-crowd annotation. torchvision's _coco_remove_images_without_annotations
        // also drops images whose boxes are all at most 1 pixel wide or high; those stay here and simply train as
        // background after GroundTruth drops their empty boxes.
        var images = new List<CocoImage>();
        var annotations = new List<IReadOnlyList<CocoAnnotation>>();
        for (int i = 0; i < dataset.Images.Count; i++)
        {
            if (!perImage[i].Any(a => !a.IsCrowd)) continue;
            images.Add(dataset.Images[i]);
            annotations.Add(perImage[i]);
        }
        if (images.Count == 0) throw new TrainingDataException($"{annotationsPath}: no image has a non-crowd annotation, so there is nothing to train on");
        return new CocoTrainingSet(annotationsPath, imagesDirectory, images, categories, [.. annotations], dataset.Images.Count - images.Count);
    }
}
