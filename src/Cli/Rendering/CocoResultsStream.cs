using System.Text;
using System.Text.Json;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Rendering;

/// <summary>COCO results written to standard output (`--json -`) as one array, each image's records as soon as it finishes.</summary>
internal sealed class CocoResultsStream(TextWriter output) : IResultsSink
{
    private bool _any;

    public int Records { get; private set; }

    public void Add(string input, long imageId, string fileName, IReadOnlyList<SegmentedInstance> instances)
    {
        if (instances.Count == 0) return;
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            // A writer holding one array keeps the records comma-separated; its brackets come from this class.
            json.WriteStartArray();
            CocoResultRecords.Write(json, imageId, fileName, instances);
            json.WriteEndArray();
        }
        string records = Encoding.UTF8.GetString(buffer.GetBuffer(), 1, (int)buffer.Length - 2);
        output.Write(_any ? "," : "[");
        output.Write(records);
        output.Flush();
        _any = true;
        Records += instances.Count;
    }

    public void Complete(bool interrupted)
    {
        output.WriteLine(_any ? "]" : "[]");
        output.Flush();
    }

    public void Dispose()
    {
    }
}
