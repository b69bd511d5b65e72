namespace NativeSeg.Fuzz;

/// <summary>
/// One reader that a user's file reaches, fed arbitrary bytes. A run ends quietly when the reader accepts the
/// input or refuses it with its documented error; any other exception escaping <see cref="Run"/> is a finding.
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>The name on the command line and of the seed corpus folder, corpus/&lt;name&gt;.</summary>
    public abstract string Name { get; }

    /// <returns>The reader's clean refusal of the input, or null when it accepted it.</returns>
    public Exception? Run(byte[] input)
    {
        try
        {
            Read(input);
            return null;
        }
        catch (Exception e) when (IsCleanError(e))
        {
            return e;
        }
    }

    /// <summary>Reads the input the way the engine reads a user's file, and uses what comes back.</summary>
    protected abstract void Read(byte[] input);

    /// <summary>Whether an exception is the error the reader documents for bad input.</summary>
    protected abstract bool IsCleanError(Exception e);
}
