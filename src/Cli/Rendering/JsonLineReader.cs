namespace NativeSeg.Cli.Rendering;

/// <summary>
/// The lines of a file, read a block at a time with their end offsets, so a results file of any size is read
/// holding one line. A line lacking its newline can only be the file's last.
/// </summary>
internal static class JsonLineReader
{
    /// <param name="Bytes">The line without its newline; valid until the next line is read.</param>
    /// <param name="End">Offset just after the line's newline (or after its last byte when it has none).</param>
    /// <param name="IsLast">Nothing follows the line in the file.</param>
    public readonly record struct Line(int Number, ReadOnlyMemory<byte> Bytes, long End, bool HasNewline, bool IsLast);

    public static IEnumerable<Line> Lines(FileStream stream)
    {
        long length = stream.Length;
        byte[] buffer = new byte[1 << 16];
        long bufferStart = stream.Position;
        int start = 0, filled = 0, number = 0;
        while (true)
        {
            int newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
            if (newline >= 0)
            {
                long end = bufferStart + newline + 1;
                yield return new(++number, buffer.AsMemory(start, newline - start), end, true, end >= length);
                start = newline + 1;
                continue;
            }
            // Keep the unfinished line at the front of the buffer, growing it for a line longer than the buffer.
            int pending = filled - start;
            if (pending == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            Buffer.BlockCopy(buffer, start, buffer, 0, pending);
            bufferStart += start;
            start = 0;
            filled = pending;
            int read = stream.Read(buffer, filled, buffer.Length - filled);
            filled += read;
            if (read > 0) continue;
            if (pending > 0) yield return new(++number, buffer.AsMemory(0, pending), bufferStart + pending, false, true);
            yield break;
        }
    }
}
