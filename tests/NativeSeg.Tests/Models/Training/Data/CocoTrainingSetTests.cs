using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Training.Data;

namespace NativeSeg.Tests.Models.Training.Data;

public class CocoTrainingSetTests
{
    private static string Failure(SyntheticTrainingData data) =>
        Assert.Throws<TrainingDataException>(() => CocoTrainingSet.Open(data.AnnotationsPath, data.Folder)).Message;

    [Fact]
    public void OpensAValidSetWithCategoriesSortedById()
    {
        using var data = new SyntheticTrainingData();
        data.Dataset.Categories.Reverse();
        data.Save();
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        Assert.Equal(data.Dataset.Images.Count, set.Images.Count);
        Assert.Equal([1L, 2, 3], set.Categories.Select(c => c.Id));
        for (int i = 0; i < set.Images.Count; i++)
            Assert.Equal(data.Dataset.Annotations.Count(a => a.ImageId == set.Images[i].Id), set.AnnotationsOf(i).Count);
    }

    [Fact]
    public void MissingAnnotationFileIsNamed()
    {
        using var data = new SyntheticTrainingData(images: 1);
        string path = Path.Combine(data.Folder, "nope.json");
        var e = Assert.Throws<TrainingDataException>(() => CocoTrainingSet.Open(path, data.Folder));
        Assert.Contains(path, e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void CorruptJsonIsNamed()
    {
        using var data = new SyntheticTrainingData(images: 1);
        File.WriteAllText(data.AnnotationsPath, "{ \"images\": [");
        string message = Failure(data);
        Assert.Contains(data.AnnotationsPath, message);
        Assert.Contains("not valid JSON", message);
    }

    [Fact]
    public void MissingImagesAreCountedAndTheFirstNamed()
    {
        using var data = new SyntheticTrainingData(images: 8);
        foreach (var image in data.Dataset.Images.Take(7)) File.Delete(Path.Combine(data.Folder, image.FileName));
        string message = Failure(data);
        Assert.Contains("7 of the 8 images", message);
        Assert.Contains("images/000001.png", message);
        Assert.Contains("images/000005.png", message);
        Assert.DoesNotContain("images/000006.png", message);
        Assert.Contains(data.Folder, message);
    }

    [Fact]
    public void UnknownCategoryIsNamed()
    {
        using var data = new SyntheticTrainingData(images: 2);
        var a = data.Dataset.Annotations[1];
        a.CategoryId = 42;
        data.Save();
        string message = Failure(data);
        Assert.Contains($"annotation {a.Id}", message);
        Assert.Contains("category id 42, which is not among the categories", message);
    }

    [Fact]
    public void UnknownImageIsNamed()
    {
        using var data = new SyntheticTrainingData(images: 2);
        var a = data.Dataset.Annotations[0];
        a.ImageId = 99;
        data.Save();
        Assert.Contains($"annotation {a.Id} refers to image id 99, which is not among the images", Failure(data));
    }

    [Fact]
    public void NegativeBoxIsNamed()
    {
        using var data = new SyntheticTrainingData(images: 2);
        var a = data.Dataset.Annotations[0];
        a.Box = new CocoBox(3, 4, -2, 5);
        data.Save();
        string message = Failure(data);
        Assert.Contains($"annotation {a.Id} (image {a.ImageId})", message);
        Assert.Contains("negative width or height", message);
    }

    [Theory]
    [InlineData(5, "odd number of coordinates")]
    [InlineData(4, "a polygon needs at least 3")]
    public void MalformedPolygonIsNamed(int numbers, string problem)
    {
        using var data = new SyntheticTrainingData(images: 2);
        var a = data.Dataset.Annotations[0];
        a.Segmentation = new PolygonSegmentation([[1, 1, 10, 1, 10, 10], [.. Enumerable.Range(0, numbers).Select(v => (double)v)]]);
        data.Save();
        string message = Failure(data);
        Assert.Contains($"annotation {a.Id}", message);
        Assert.Contains($"polygon 1 has", message);
        Assert.Contains(problem, message);
    }

    [Fact]
    public void RleOfTheWrongSizeIsNamed()
    {
        using var data = new SyntheticTrainingData(images: 2);
        var a = data.Dataset.Annotations[0];
        a.Segmentation = new RleSegmentation(new Rle(10, 10, [100]));
        data.Save();
        Assert.Contains("RLE mask is 10x10 (height x width) but image images/000001.png is 52x72", Failure(data));
    }

    [Fact]
    public void CrowdOnlyImagesAreSkipped()
    {
        using var data = new SyntheticTrainingData(images: 3);
        long crowdImage = data.Dataset.Images[1].Id;
        foreach (var a in data.Dataset.Annotations.Where(a => a.ImageId == crowdImage)) a.IsCrowd = true;
        data.Save();
        var set = CocoTrainingSet.Open(data.AnnotationsPath, data.Folder);
        Assert.Equal(1, set.SkippedImages);
        Assert.DoesNotContain(set.Images, image => image.Id == crowdImage);
        Assert.Equal(2, set.Images.Count);
    }
}
