using System.Text;
using System.Text.Json;
using NativeSeg.Engine.Formats;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// COCO results JSON written so that finished images are never lost: each image's records are appended
/// to "FILE.partial" (one JSON array per line, flushed to disk) as soon as it is done; <see cref="Complete"/>
/// turns those lines into FILE atomically and removes the partial file. After a crash or kill, FILE.partial
/// holds every finished image.
/// </summary>
internal sealed class CocoResultsWriter : IDisposable
{
    private readonly string _path;
    private readonly FileStream _partial;

    public CocoResultsWriter(string path)
    {
        _path = path;
        PartialPath = path + ".partial";
        _partial = new FileStream(PartialPath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
    }

    public string PartialPath { get; }

    public int Records { get; private set; }

    public void Add(long imageId, string fileName, IReadOnlyList<SegmentedInstance> instances)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var i in instances)
            {
                json.WriteStartObject();
                json.WriteNumber("image_id", imageId);
                json.WriteString("file_name", fileName);
                json.WriteNumber("category_id", i.CategoryId);
                json.WriteStartArray("bbox");
                foreach (float v in new[] { i.X1, i.Y1, i.X2 - i.X1, i.Y2 - i.Y1 }) json.WriteNumberValue(Math.Round((double)v, 2));
                json.WriteEndArray();
                // The mask score: equal to the box score for Mask R-CNN, rescored by MS R-CNN's MaskIoU head.
                json.WriteNumber("score", Math.Round((double)i.MaskScore, 5));
                json.WriteStartObject("segmentation");
                json.WriteStartArray("size");
                json.WriteNumberValue(i.Mask.Height);
                json.WriteNumberValue(i.Mask.Width);
                json.WriteEndArray();
                json.WriteString("counts", i.Mask.ToCompressedString());
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        buffer.WriteByte((byte)'\n');
        _partial.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        _partial.Flush(flushToDisk: true);
        Records += instances.Count;
    }

    /// <summary>Writes FILE as one JSON array of every record so far and deletes the partial file.</summary>
    public void Complete()
    {
        _partial.Flush(flushToDisk: true);
        _partial.Position = 0;
        AtomicFile.Write(_path, stream =>
        {
            var reader = new StreamReader(_partial, Encoding.UTF8, leaveOpen: true);
            stream.WriteByte((byte)'[');
            bool first = true;
            while (reader.ReadLine() is { } line)
            {
                // Each line is "[...]"; its inside joins the others.
                var inner = line.AsSpan(1, line.Length - 2);
                if (inner.IsEmpty) continue;
                if (!first) stream.WriteByte((byte)',');
                stream.Write(Encoding.UTF8.GetBytes(inner.ToArray()));
                first = false;
            }
            stream.WriteByte((byte)']');
        });
        _partial.Dispose();
        File.Delete(PartialPath);
    }

    public void Dispose() => _partial.Dispose();
}
