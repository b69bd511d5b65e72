using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Rendering;

/// <summary>Where `segment` puts each finished image's COCO results: a file (resumable) or standard output.</summary>
internal interface IResultsSink : IDisposable
{
    /// <summary>Records written so far, those of images finished by an earlier, resumed run included.</summary>
    int Records { get; }

    /// <param name="input">The input as segment identifies it across runs (its full path, or "-").</param>
    void Add(string input, long imageId, string fileName, IReadOnlyList<SegmentedInstance> instances);

    /// <summary>Ends the results: a complete COCO results array of every finished image.</summary>
    /// <param name="interrupted">The run stopped early: a file's partial results are kept for --resume.</param>
    void Complete(bool interrupted);
}
