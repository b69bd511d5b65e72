namespace NativeSeg.Fuzz;

/// <summary>
/// One reader that a user's file reaches, fed arbitrary bytes. A run ends quietly when the reader accepts the
/// input or refuses it with its documented error; any other exception escaping <see cref="Run"/> is a finding.
/// </summary>
/// <param name="name">The name on the command line and of the seed corpus folder, corpus/&lt;name&gt;.</param>
/// <param name="read">Reads the input the way the engine reads a user's file, and uses what comes back.</param>
/// <param name="isCleanError">Whether an exception is the error the reader documents for bad input.</param>
public sealed class FuzzTarget(string name, Action<byte[]> read, Func<Exception, bool> isCleanError)
{
    public string Name { get; } = name;

    /// <returns>The reader's clean refusal of the input, or null when it accepted it.</returns>
    public Exception? Run(byte[] input)
    {
        try
        {
            read(input);
            return null;
        }
        catch (Exception e) when (isCleanError(e))
        {
            return e;
        }
    }
}
