namespace NativeSeg.Engine.Formats;

/// <summary>
/// A checkpoint (or a pickle inside one) that cannot be read: corrupt, truncated, unsupported, or
/// asking for something the safe unpickler refuses. Every checkpoint reading failure has this type.
/// </summary>
public sealed class CheckpointFormatException : FileFormatException
{
    public CheckpointFormatException(string path, string problem, Exception? inner = null)
        : base(path, problem, inner)
    {
    }
}
